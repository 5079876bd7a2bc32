"""Privacy officers see registered devices (without their tokens) and the test-mode outbox,
read-only. Support staff get nothing here: they have no need to know a person's devices."""

from django.db import migrations

from dsar.migration_helpers import group_permissions_grant


def grant(apps, schema_editor):
    group_permissions_grant(
        apps, "notifications", "Privacy officer", ["view_device", "view_testmodepush"]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("accounts", "0002_staff_groups"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
