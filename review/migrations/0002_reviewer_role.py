"""The "Reviewer" role: staff who manually check messages reported as spam and scanned images.
They see the queue and, while an item is assigned to them, its content. Privacy officers see the
queue (never the content) and may give an assigned item back."""

from django.db import migrations

from dsar.migration_helpers import group_permissions_grant

REVIEWER = "Reviewer"
GRANTS = {
    REVIEWER: ["view_spamreview", "review_spamreview", "view_scanreview", "review_scanreview"],
    "Privacy officer": [
        "view_spamreview",
        "change_spamreview",
        "view_scanreview",
        "change_scanreview",
    ],
}


def grant(apps, schema_editor):
    for role, codenames in GRANTS.items():
        group_permissions_grant(apps, "review", role, codenames)


def remove_role(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=REVIEWER).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("review", "0001_initial"),
        ("accounts", "0002_staff_groups"),
    ]

    operations = [migrations.RunPython(grant, remove_role)]
