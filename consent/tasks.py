from celery import shared_task

from .mail import mail_campaign_send
from .models import Partner, Purpose


@shared_task(ignore_result=True)
def mail_campaign_task(
    purpose_code: str, template: str, context: dict | None = None, partner_id: int | None = None
) -> int:
    """Send a campaign to everyone the gate lets through. Returns quietly when the purpose or
    partner is gone."""
    purpose = Purpose.objects.filter(code=purpose_code).first()
    if purpose is None:
        return 0
    if partner_id is not None and not Partner.objects.filter(pk=partner_id).exists():
        return 0
    return mail_campaign_send(
        purpose=purpose, template=template, context=context or {}, partner=partner_id
    )
