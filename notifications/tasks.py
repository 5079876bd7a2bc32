from celery import shared_task

from consent.models import Purpose

from .push import push_campaign_send


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=21600, time_limit=21900)
def push_campaign_task(
    purpose_code: str, template: str, context: dict | None = None, url: str = ""
) -> int:
    """Send a push campaign to every device the gate lets through. Returns quietly when the
    purpose is gone."""
    purpose = Purpose.objects.filter(code=purpose_code).first()
    if purpose is None:
        return 0
    return push_campaign_send(purpose=purpose, template=template, context=context or {}, url=url)
