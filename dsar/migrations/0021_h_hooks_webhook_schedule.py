"""Webhooks out: the sweep that retries due deliveries (every minute), and the privacy officers'
permissions on endpoints and deliveries (nobody else sees them)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SWEEP = ("Send due webhook deliveries", "dsar.tasks.webhook_deliveries_sweep_task")
GRANTS = [
    ("webhookendpoint", ["view", "add", "change"]),
    ("webhookdelivery", ["view", "change"]),
]


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="*", hour="*", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="UTC",
    )
    PeriodicTask.objects.update_or_create(
        name=SWEEP[0], defaults={"task": SWEEP[1], "crontab": crontab, "enabled": True}
    )
    app_config = apps.get_app_config("dsar")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.get(name="Privacy officer")
    for model, actions in GRANTS:
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="dsar", codename__in=[f"{a}_{model}" for a in actions]
            )
        )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SWEEP[0]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("dsar", "0020_h_hooks_webhooks"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("accounts", "0002_staff_groups"),
    ]

    operations = [migrations.RunPython(create, remove)]
