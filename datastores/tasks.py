from celery import shared_task

from . import services


# Below the part's stuck window (STUCK_AFTER_SECONDS, 900): the sweep never hands a part to a
# second worker while the first may still run it. The soft limit is caught by the part's error
# handling: the part is failed and retried with backoff, from the next collection.
@shared_task(acks_late=True, ignore_result=True, soft_time_limit=780, time_limit=840)
def system_part_run_task(part_id: int) -> bool:
    return services.system_part_run(part_id=part_id)


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=120, time_limit=180)
def system_parts_sweep_task() -> int:
    return services.system_parts_sweep()
