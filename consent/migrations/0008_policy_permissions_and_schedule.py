"""Privacy officers draft and publish policy versions, follow the notices, and flag forms sent
by children; beat sweeps the notices every minute (editable in admin, Periodic tasks)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "Privacy officer": [
        ("policyversion", ["view", "add", "change", "publish_policyversion"]),
        ("policynotice", ["view"]),
        ("policyacknowledgement", ["view"]),
        ("formsubmission", ["flag_child_formsubmission"]),
    ],
    "Support": [("policyversion", ["view"])],
}
SWEEP = "Send policy-change notices (sweep)"


def grant(apps, schema_editor):
    app_config = apps.get_app_config("consent")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, grants in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for model, actions in grants:
            codenames = [a if "_" in a else f"{a}_{model}" for a in actions]
            group.permissions.add(
                *Permission.objects.filter(content_type__app_label="consent", codename__in=codenames)
            )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, grants in GRANTS.items():
        for group in Group.objects.filter(name=role):
            for model, actions in grants:
                codenames = [a if "_" in a else f"{a}_{model}" for a in actions]
                group.permissions.remove(
                    *Permission.objects.filter(
                        content_type__app_label="consent", codename__in=codenames
                    )
                )


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=SWEEP,
        defaults={
            "task": "consent.tasks.policy_notices_sweep_task",
            "interval": every_minute,
            "crontab": None,
            "enabled": True,
            "expire_seconds": 120,
            "description": (
                "Wakes the fan-out for every policy version with notices due (a lost message, "
                "a retry after a transient failure) and hands out again batches whose worker "
                "died while sending."
            ),
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SWEEP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0007_published_policy_is_immutable"),
        ("accounts", "0002_staff_groups"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(grant, revoke),
        migrations.RunPython(schedule, unschedule),
    ]
