"""Restrictions and objections: adding them, and lifting them only after the person is told."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..claims import claim_due
from ..mail import request_mail_send
from ..models import (
    DataSubjectRequest,
    ProcessingBlock,
    WebhookEventType,
)
from ..purposes import (
    ALL_USES,
    ALL_USES_BLOCK,
    DIRECT_MARKETING,
    objection_refused_message,
    objection_uses_clean,
    processing_uses,
)
from ..registry import Subject
from ..textinput import text_refuse_unstorable
from .base import RequestError, audit_record
from .webhooks import webhook_emit


def _block_webhook(type: str, block: ProcessingBlock) -> None:  # noqa: A002
    """Tell the subscribed systems to stop (or resume) processing for the use the block names."""
    webhook_emit(
        type=type,
        subject=Subject(user_id=block.user_id, email=block.email),
        data={
            "block_id": block.pk,
            "kind": block.kind,
            "purpose": block.purpose or "*",
            "request": str(block.request.public_id) if block.request_id else None,
            "lifted_at": block.lifted_at.isoformat() if block.lifted_at else None,
        },
        request=block.request,
    )


@transaction.atomic
def processing_block_add(
    *,
    kind: str,
    subject: Subject,
    purpose: str = "",
    reason: str = "",
    actor=None,
    request: DataSubjectRequest | None = None,
) -> ProcessingBlock:
    """Stop processing for one use (a code of `dsar.purposes`, 'direct_marketing'), or for every
    use ('' or 'all'). An unknown code is refused: a block that names nothing real stops nothing.
    An objection names only what GDPR Art. 21 lets a person object to (`objection_uses`: the
    activities based on (e) or (f), and direct marketing), whoever adds it: the form, the API
    or an officer applying a request filed before an activity's basis changed.
    """
    text_refuse_unstorable(kind, purpose, reason)
    if purpose == ALL_USES:
        purpose = ALL_USES_BLOCK
    known = {use.code for use in processing_uses()} | {ALL_USES_BLOCK, DIRECT_MARKETING}
    if purpose not in known:
        raise RequestError(
            _("“%(code)s” is not a use of data we have: choose one from the list.")
            % {"code": purpose}
        )
    if kind == ProcessingBlock.Kind.OBJECTION:
        try:
            objection_uses_clean([purpose or ALL_USES])
        except ValueError:
            raise RequestError(objection_refused_message(purpose)) from None
    block = ProcessingBlock(
        kind=kind,
        user_id=subject.user_id,
        email=subject.email if subject.user_id is None else "",
        purpose=purpose,
        reason=reason,
        request=request,
    )
    block.full_clean()
    block.save()
    audit_record(
        action=f"{kind}_added",
        actor=actor,
        subject=subject,
        reason=reason,
        obj=block,
        detail={"purpose": purpose or "*"},
    )
    _block_webhook(WebhookEventType.RESTRICTION_APPLIED, block)
    return block


LIFT_NOTICE_DAYS = 7


@transaction.atomic
def processing_block_announce_lift(
    *, block: ProcessingBlock, actor, reason: str, notice_days: int = LIFT_NOTICE_DAYS
) -> ProcessingBlock:
    """Tell the person a restriction will be lifted, and when; the sweep lifts it then.

    GDPR Art. 18(3): the person is informed before the restriction is lifted.
    """
    block = ProcessingBlock.objects.select_for_update().get(pk=block.pk)
    reason = reason.strip()
    if block.lifted_at is not None or block.lift_at is not None:
        raise RequestError(_("This restriction is already lifted or about to be."))
    if not reason:
        raise RequestError(_("Say why the restriction is lifted: the person is told."))
    now = timezone.now()
    block.lift_announced_at = now
    block.lift_at = now + timedelta(days=notice_days)
    block.save(update_fields=["lift_announced_at", "lift_at"])
    subject = Subject(user_id=block.user_id, email=block.email)
    audit_record(
        action=f"{block.kind}_lift_announced",
        actor=actor,
        subject=subject,
        reason=reason,
        obj=block,
    )
    if block.request is not None:
        request_mail_send(
            request=block.request,
            template="lift_announced",
            context={"block": block, "reason": reason},
        )
    return block


def processing_blocks_lift_due(*, now=None, batch_size: int = 500) -> int:
    """Lift the restrictions whose announced lifting time has come (a beat sweep)."""
    now = now or timezone.now()
    lifted = 0
    while batch := _blocks_lift_batch(now=now, batch_size=batch_size):
        lifted += batch
    return lifted


def _blocks_lift_batch(*, now, batch_size: int) -> int:
    with transaction.atomic():
        due = claim_due(
            ProcessingBlock.objects.filter(lifted_at__isnull=True, lift_at__lte=now).order_by("pk"),
            batch_size=batch_size,
        )
        for block in due:
            block.lifted_at = now
            block.save(update_fields=["lifted_at"])
            audit_record(
                action=f"{block.kind}_lifted",
                subject=Subject(user_id=block.user_id, email=block.email),
                obj=block,
            )
            _block_webhook(WebhookEventType.RESTRICTION_LIFTED, block)
    return len(due)
