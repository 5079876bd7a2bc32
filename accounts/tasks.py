"""Thin Celery entry points of the accounts app; the work lives in accounts.child_removal."""

from celery import shared_task


@shared_task(ignore_result=True, soft_time_limit=780, time_limit=840)
def child_removal_task(report_id: int) -> bool:
    """Run one confirmed under-16 removal; a repeat or a duplicate message does nothing."""
    from .child_removal import child_removal_run

    return child_removal_run(report_id=report_id)


@shared_task(ignore_result=True, soft_time_limit=780, time_limit=840)
def child_removals_batch_task(report_ids: list[int]) -> int:
    """Run many due removals together (the sweep's), with one bulk erasure per batch."""
    from .child_removal import child_removals_run_batch

    return child_removals_run_batch(report_ids=report_ids)


@shared_task(ignore_result=True, soft_time_limit=120, time_limit=180)
def child_removals_run_due_task() -> int:
    """Every 5 minutes (beat): a message for every due removal, lost messages and dead workers
    included."""
    from .child_removal import child_removals_wake_due

    return child_removals_wake_due()


@shared_task(ignore_result=True, soft_time_limit=600, time_limit=660)
def child_data_sweep_task() -> dict:
    """Daily (beat): accounts whose date of birth is under 16 and forms flagged as sent by a
    child become due removals."""
    from .child_removal import child_data_sweep

    return child_data_sweep()
