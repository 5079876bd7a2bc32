"""Support staff open access windows and, inside one, see service data (read-only); privacy
officers read the windows and service data, and draft and publish testimonials."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "Support": [
        ("staffaccesswindow", ["view", "add"]),
        ("workspace", ["view"]),
        ("workspacerecord", ["view"]),
    ],
    "Privacy officer": [
        ("staffaccesswindow", ["view"]),
        ("workspace", ["view"]),
        ("workspacerecord", ["view"]),
        ("testimonial", ["view", "add", "change"]),
    ],
}


def grant(apps, schema_editor):
    app_config = apps.get_app_config("accounts")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, grants in GRANTS.items():
        group = Group.objects.get(name=role)
        for model, actions in grants:
            group.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label="accounts",
                    codename__in=[f"{action}_{model}" for action in actions],
                )
            )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_staff_access_windows")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
