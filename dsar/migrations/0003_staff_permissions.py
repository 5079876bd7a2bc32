"""Privacy officers work every request and read the audit log; support staff see only the
requests assigned to them (the admin filters them)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "Privacy officer": [
        ("datasubjectrequest", ["view", "change", "work_request"]),
        ("requestevent", ["view"]),
        ("auditevent", ["view"]),
        ("processingblock", ["view"]),
    ],
    "Support": [("datasubjectrequest", ["view"])],
}


def grant(apps, schema_editor):
    app_config = apps.get_app_config("dsar")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, grants in GRANTS.items():
        group = Group.objects.get(name=role)
        for model, actions in grants:
            codenames = [a if a == "work_request" else f"{a}_{model}" for a in actions]
            group.permissions.add(
                *Permission.objects.filter(content_type__app_label="dsar", codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [("dsar", "0002_datasubjectrequest_requestevent_and_more"), ("accounts", "0002_staff_groups")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
