from celery import shared_task

from .services import worker_heartbeat_record


@shared_task(bind=True, ignore_result=True, soft_time_limit=10, time_limit=15)
def worker_heartbeat_task(self) -> None:
    worker_heartbeat_record(hostname=self.request.hostname or "unknown")
