"""Privacy officers create, change and rotate API clients; no other role sees them."""

from django.db import migrations

from dsar.migration_helpers import group_permissions_grant


def grant(apps, schema_editor):
    group_permissions_grant(
        apps, "api", "Privacy officer", ["view_apiclient", "add_apiclient", "change_apiclient"]
    )


class Migration(migrations.Migration):
    dependencies = [("api", "0001_initial"), ("accounts", "0002_staff_groups")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
