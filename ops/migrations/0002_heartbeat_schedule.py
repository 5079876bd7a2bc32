"""Beat sends the heartbeat task every 15 seconds; /healthz reads what the workers recorded."""

from django.db import migrations

TASK_NAME = "Worker heartbeat (for /healthz)"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=15, period="seconds")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "ops.tasks.worker_heartbeat_task",
            "interval": every,
            "enabled": True,
            "expire_seconds": 60,
            "description": "Proves beat, the broker and a worker all work. Do not disable.",
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("ops", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
