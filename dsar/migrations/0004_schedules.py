"""Default schedules of the request jobs; privacy officers can change them in admin."""

from django.db import migrations

SCHEDULES = [
    # (name, task, crontab minute, hour)
    ("Lapse unconfirmed privacy requests", "dsar.tasks.requests_lapse_unconfirmed_task", "7", "*"),
    ("Remind assignees of privacy requests due soon", "dsar.tasks.request_reminders_task", "0", "7"),
    ("Tell officers about unassigned privacy requests", "dsar.tasks.requests_unassigned_nag_task", "5", "7"),
    ("Retry recipient notifications (GDPR Art. 19)", "dsar.tasks.recipient_notifications_sweep_task", "*/10", "*"),
    ("Lift restrictions whose notice has run out", "dsar.tasks.processing_blocks_lift_due_task", "20", "*"),
    ("Run due erasures", "dsar.tasks.erasures_run_due_task", "*/5", "*"),
    ("Delete expired exports, retry stuck ones", "dsar.tasks.exports_sweep_task", "*/10", "*"),
]


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, minute, hour in SCHEDULES:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_week="*", day_of_month="*", month_of_year="*",
            timezone="UTC",
        )
        PeriodicTask.objects.update_or_create(
            name=name, defaults={"task": task, "crontab": crontab, "enabled": True}
        )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[name for name, *_ in SCHEDULES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("dsar", "0003_staff_permissions"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
