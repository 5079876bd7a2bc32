"""Thin Celery entry points; the work and its rules live in dsar.services."""

from celery import shared_task

from . import services
from .retention import retention_sweep


@shared_task(ignore_result=True, soft_time_limit=300, time_limit=360)
def requests_lapse_unconfirmed_task() -> int:
    return services.dsar_requests_lapse_unconfirmed()


@shared_task(ignore_result=True, soft_time_limit=600, time_limit=660)
def request_reminders_task() -> int:
    return services.dsar_reminders_send()


@shared_task(ignore_result=True, soft_time_limit=600, time_limit=660)
def requests_unassigned_nag_task() -> int:
    return services.dsar_unassigned_nag()


@shared_task(
    bind=True,
    ignore_result=True,
    max_retries=8,
    retry_backoff=True,
    retry_backoff_max=3600,
    soft_time_limit=120,
    time_limit=180,
)
def recipient_notify_task(self, notification_id: int) -> None:
    if not services.recipient_notification_send(notification_id=notification_id):
        from .models import RecipientNotification

        failed = RecipientNotification.objects.filter(
            pk=notification_id, state=RecipientNotification.State.FAILED
        ).exists()
        if failed:
            raise self.retry(countdown=min(3600, 30 * 2**self.request.retries))


@shared_task(ignore_result=True, soft_time_limit=300, time_limit=360)
def recipient_notifications_sweep_task() -> int:
    return services.recipient_notifications_sweep()


@shared_task(ignore_result=True, soft_time_limit=300, time_limit=360)
def processing_blocks_lift_due_task() -> int:
    return services.processing_blocks_lift_due()


@shared_task(ignore_result=True, soft_time_limit=1200, time_limit=1320)
def export_build_task(export_id: int) -> None:
    from .services.exports import export_build

    export_build(export_id=export_id)


@shared_task(ignore_result=True, soft_time_limit=300, time_limit=360)
def exports_sweep_task() -> dict:
    from .services.exports import exports_sweep

    return exports_sweep()


@shared_task(
    bind=True,
    ignore_result=True,
    max_retries=8,
    retry_backoff=True,
    retry_backoff_max=3600,
    soft_time_limit=600,
    time_limit=660,
)
def transfer_deliver_task(self, transfer_id: int) -> None:
    from .models import ThirdPartyTransfer
    from .services.transfers import transfer_deliver

    if not transfer_deliver(transfer_id=transfer_id):
        retry = ThirdPartyTransfer.objects.filter(
            pk=transfer_id, state=ThirdPartyTransfer.State.SENDING, attempts__gt=0
        ).exists()
        if retry:
            raise self.retry(countdown=min(3600, 30 * 2**self.request.retries))


@shared_task(ignore_result=True, soft_time_limit=780, time_limit=840)
def erasure_run_task(schedule_id: int) -> None:
    from .services.erasure import erasure_run

    erasure_run(schedule_id=schedule_id)


@shared_task(ignore_result=True, soft_time_limit=120, time_limit=180)
def erasures_run_due_task() -> int:
    """The beat sweep: every due erasure (or one whose worker died) gets a message; the
    schedule row is claimed under a lock, so duplicates do nothing."""
    from .services.erasure import erasures_due

    due = erasures_due()
    for schedule_id in due:
        erasure_run_task.delay(schedule_id)
    return len(due)


@shared_task(ignore_result=True, soft_time_limit=1800, time_limit=1860)
def retention_sweep_task() -> dict[str, int]:
    """Daily (beat). Idempotent: a repeat finds nothing left past its retention."""
    return retention_sweep()


@shared_task(ignore_result=True, soft_time_limit=60, time_limit=90)
def webhook_deliver_task(delivery_id: int) -> None:
    """One try of one delivery; a failed try is retried by the sweep when its wait is over."""
    from .services.webhooks import webhook_deliver

    webhook_deliver(delivery_id=delivery_id)


@shared_task(ignore_result=True, soft_time_limit=120, time_limit=180)
def webhook_deliveries_sweep_task() -> int:
    from .services.webhooks import webhook_deliveries_sweep

    return webhook_deliveries_sweep()
