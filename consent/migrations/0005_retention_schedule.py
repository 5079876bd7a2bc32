"""Beat runs the retention sweep (dsar.tasks.retention_sweep_task) every day at 03:15 UTC."""

from django.db import migrations

TASK_NAME = "Retention sweep (daily)"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    daily, _ = CrontabSchedule.objects.get_or_create(
        minute="15",
        hour="3",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="UTC",
    )
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "dsar.tasks.retention_sweep_task",
            "crontab": daily,
            "interval": None,
            "enabled": True,
            "expire_seconds": 6 * 3600,
            "description": (
                "Erases rows kept longer than their retention period (form submissions and any "
                "other model with a retention period in the personal-data registry)."
            ),
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0004_staff_permissions"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
