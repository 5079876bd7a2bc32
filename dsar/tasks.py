"""Thin Celery entry points; the work and its rules live in dsar.services."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def requests_lapse_unconfirmed_task() -> int:
    return services.dsar_requests_lapse_unconfirmed()


@shared_task(ignore_result=True)
def request_reminders_task() -> int:
    return services.dsar_reminders_send()


@shared_task(ignore_result=True)
def requests_unassigned_nag_task() -> int:
    return services.dsar_unassigned_nag()
