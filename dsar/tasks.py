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


@shared_task(
    bind=True, ignore_result=True, max_retries=8, retry_backoff=True, retry_backoff_max=3600
)
def recipient_notify_task(self, notification_id: int) -> None:
    if not services.recipient_notification_send(notification_id=notification_id):
        from .models import RecipientNotification

        failed = RecipientNotification.objects.filter(
            pk=notification_id, state=RecipientNotification.State.FAILED
        ).exists()
        if failed:
            raise self.retry(countdown=min(3600, 30 * 2**self.request.retries))


@shared_task(ignore_result=True)
def recipient_notifications_sweep_task() -> int:
    return services.recipient_notifications_sweep()


@shared_task(ignore_result=True)
def processing_blocks_lift_due_task() -> int:
    return services.processing_blocks_lift_due()
