"""Privacy officers see, on a request's admin page, the recipients to tell (GDPR Art. 19, read-only)."""

from django.db import migrations

from dsar.migration_helpers import group_permissions_grant


def grant(apps, schema_editor):
    group_permissions_grant(apps, "dsar", "Privacy officer", ["view_recipientnotification"])


class Migration(migrations.Migration):
    dependencies = [("dsar", "0010_transfer_permissions")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
