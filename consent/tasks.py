from celery import shared_task

from . import selectors
from .mail import mail_campaign_send, preferences_link_send
from .models import Partner, Purpose


@shared_task(ignore_result=True, soft_time_limit=21600, time_limit=21900)
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


@shared_task(ignore_result=True, soft_time_limit=1800, time_limit=1860)
def policy_notices_send_task(version_id: int) -> int:
    """Send a material version's due notices, a bounded number of batches per message; if it
    stopped at that bound, one new message carries on. Rows are claimed under SKIP LOCKED, so a
    duplicated message or a second worker shares the work instead of repeating it."""
    from .app_settings import app_settings
    from .policies import policy_notices_send

    claimed, more = policy_notices_send(
        version_id=version_id, max_batches=app_settings.NOTICE_BATCHES_PER_TASK
    )
    if more:
        policy_notices_send_task.delay(version_id)
    return claimed


@shared_task(ignore_result=True, soft_time_limit=120, time_limit=180)
def policy_notices_sweep_task() -> dict:
    """Every minute (beat): stuck batches go back to pending, due notices get a message."""
    from .policies import policy_notices_sweep

    return policy_notices_sweep()


@shared_task(ignore_result=True, soft_time_limit=60, time_limit=90)
def preferences_link_task(email: str) -> bool:
    """Mail a link to the preference centre if we hold the address (queued for every address
    asked for, so the web answer takes as long for a stranger as for a subscriber)."""
    if not selectors.address_known(email):
        return False
    return preferences_link_send(email=email)
