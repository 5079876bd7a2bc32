"""Privacy officers see, on a request's admin page, where its package was sent (read-only)."""

from django.db import migrations

from dsar.migration_helpers import group_permissions_grant


def grant(apps, schema_editor):
    group_permissions_grant(apps, "dsar", "Privacy officer", ["view_thirdpartytransfer"])


class Migration(migrations.Migration):
    dependencies = [("dsar", "0009_third_party_transfers"), ("accounts", "0002_staff_groups")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
