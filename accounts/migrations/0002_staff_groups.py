"""The staff roles: "Privacy officer" and "Support". Later apps add their permissions in their own
migrations, so each role's rights are readable in the history of these files."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PRIVACY_OFFICER = "Privacy officer"
SUPPORT = "Support"

ROLE_PERMISSIONS = {
    PRIVACY_OFFICER: [
        ("accounts", "user", ["view", "change"]),
        ("account", "emailaddress", ["view"]),
        ("admin", "logentry", ["view"]),
        ("django_celery_beat", "periodictask", ["view", "add", "change", "delete"]),
        ("django_celery_beat", "intervalschedule", ["view", "add", "change", "delete"]),
        ("django_celery_beat", "crontabschedule", ["view", "add", "change", "delete"]),
        ("django_celery_beat", "clockedschedule", ["view", "add", "change", "delete"]),
        ("django_celery_beat", "solarschedule", ["view", "add", "change", "delete"]),
        ("ops", "workerheartbeat", ["view"]),
    ],
    SUPPORT: [
        ("accounts", "user", ["view"]),
    ],
}


def create_roles(apps, schema_editor):
    # Permissions are normally made after all migrations; the roles need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, grants in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for app_label, model, actions in grants:
            codenames = [f"{action}_{model}" for action in actions]
            group.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label=app_label, codename__in=codenames
                )
            )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("account", "0009_emailaddress_unique_primary_email"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("ops", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
