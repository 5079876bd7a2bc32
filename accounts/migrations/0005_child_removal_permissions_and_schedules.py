"""Privacy officers work the queue of reports about children's data; beat runs the under-16
sweep daily and wakes due removals every 5 minutes (both editable in admin, Periodic tasks)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = ["view_childdatareport", "change_childdatareport", "review_childdatareport"]
SCHEDULES = [
    # (name, task, minute, hour, description)
    (
        "Under-16 sweep: accounts and flagged forms",
        "accounts.tasks.child_data_sweep_task",
        "30",
        "2",
        "Accounts whose date of birth shows the holder is under 16, and forms flagged as sent "
        "by a child, become removals that run at once (no review needed).",
    ),
    (
        "Run due under-16 removals",
        "accounts.tasks.child_removals_run_due_task",
        "*/5",
        "*",
        "Wakes every confirmed removal, and resumes any whose worker died.",
    ),
]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("accounts")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Privacy officer")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="accounts", codename__in=CODENAMES)
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="Privacy officer"):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="accounts", codename__in=CODENAMES)
        )


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, minute, hour, description in SCHEDULES:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone="UTC",
        )
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": task,
                "crontab": crontab,
                "interval": None,
                "enabled": True,
                "description": description,
            },
        )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[row[0] for row in SCHEDULES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_child_data_reports"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(grant, revoke),
        migrations.RunPython(schedule, unschedule),
    ]
