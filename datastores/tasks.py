from celery import shared_task

from . import services


@shared_task(acks_late=True)
def system_part_run_task(part_id: int) -> bool:
    return services.system_part_run(part_id=part_id)


@shared_task(acks_late=True)
def system_parts_sweep_task() -> int:
    return services.system_parts_sweep()
