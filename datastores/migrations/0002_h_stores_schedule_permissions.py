"""The sweep of the systems' parts (every 5 minutes; officers can change it in admin), and the
privacy officers' permissions on connected systems, their datasets and the parts of requests."""

from django.db import migrations

from dsar.migration_helpers import group_permissions_grant

SWEEP = ("Retry connected systems' parts of requests", "datastores.tasks.system_parts_sweep_task")


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="*/5", hour="*", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="UTC",
    )
    PeriodicTask.objects.update_or_create(
        name=SWEEP[0], defaults={"task": SWEEP[1], "crontab": crontab, "enabled": True}
    )
    group_permissions_grant(
        apps,
        "datastores",
        "Privacy officer",
        [
            "add_connectedsystem", "change_connectedsystem", "view_connectedsystem",
            "view_datasetversion", "view_systempart", "change_systempart",
        ],
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SWEEP[0]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("datastores", "0001_h_stores_initial"),
        ("accounts", "0002_staff_groups"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
