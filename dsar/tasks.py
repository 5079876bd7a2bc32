from celery import shared_task

from .retention import retention_sweep


@shared_task(ignore_result=True)
def retention_sweep_task() -> dict[str, int]:
    """Daily (beat). Idempotent: a repeat finds nothing left past its retention."""
    return retention_sweep()
