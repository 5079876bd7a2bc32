"""Helpers for data migrations that give a staff group permissions.

Kept stable on purpose: migrations import them, so changing a signature breaks old migrations."""

from django.contrib.auth.management import create_permissions


def group_permissions_grant(apps, app_label: str, group_name: str, codenames: list[str]) -> None:
    """Give `group_name` the named permissions of `app_label`, creating them first (on a fresh
    database, Django creates permissions only after all migrations ran)."""
    app_config = apps.get_app_config(app_label)
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=group_name)
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
    )
