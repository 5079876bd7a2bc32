"""Models of the framework and of ops that hold nothing about any person."""

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django_celery_beat import models as beat

from dsar.registry import no_personal_data

from .models import WorkerHeartbeat

for model in (Group, Permission, ContentType, Site):
    no_personal_data(
        model, reason="Framework configuration: roles, permissions, model types, site."
    )
for model in (
    beat.PeriodicTask,
    beat.PeriodicTasks,
    beat.IntervalSchedule,
    beat.CrontabSchedule,
    beat.SolarSchedule,
    beat.ClockedSchedule,
):
    no_personal_data(model, reason="Job schedules: task names and times, never about a person.")
no_personal_data(WorkerHeartbeat, reason="Worker host names and times.")
