"""What the staff roles may do with consent: officers read the ledger, edit purposes and
partners, and record changes on a person's written request; support reads the purposes."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "Privacy officer": [
        ("consent", "consentevent", ["view"]),
        ("consent", "purpose", ["view", "add", "change"]),
        ("consent", "partner", ["view", "add", "change"]),
        ("consent", "policyversion", ["view"]),
        ("consent", "formsubmission", ["view"]),
        ("consent", "pageviewcount", ["view"]),
    ],
    "Support": [
        ("consent", "purpose", ["view"]),
    ],
}
EXTRA = {"Privacy officer": [("consent", "record_on_request")]}


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, grants in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for app_label, model, actions in grants:
            group.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label=app_label,
                    codename__in=[f"{action}_{model}" for action in actions],
                )
            )
        for app_label, codename in EXTRA.get(role, []):
            group.permissions.add(
                *Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name__in=ROLE_PERMISSIONS):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="consent"))


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0003_purposes_and_policy"),
        ("accounts", "0002_staff_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
