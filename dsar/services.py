"""Writes of the privacy kernel: the audit log, restrictions and objections."""

from django.db import transaction
from django.utils import timezone

from .models import AuditEvent, ProcessingBlock
from .registry import Subject


def audit_record(
    *,
    action: str,
    actor=None,
    actor_kind: str | None = None,
    subject: Subject | None = None,
    reason: str = "",
    obj=None,
    detail: dict | None = None,
) -> AuditEvent:
    """Append one event to the audit log. `detail` must not hold names, addresses or other
    personal data: refer to the subject through `subject` (kept as a pseudonymous reference)."""
    if actor_kind is None:
        actor_kind = "system" if actor is None else ("staff" if actor.is_staff else "subject")
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_kind=actor_kind,
        subject_ref=subject.ref if subject else "",
        reason=reason,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        detail=detail or {},
    )


@transaction.atomic
def processing_block_add(
    *, kind: str, subject: Subject, purpose: str = "", reason: str = "", actor=None
) -> ProcessingBlock:
    block = ProcessingBlock.objects.create(
        kind=kind,
        user_id=subject.user_id,
        email=subject.email if subject.user_id is None else "",
        purpose=purpose,
        reason=reason,
    )
    audit_record(
        action=f"{kind}_added",
        actor=actor,
        subject=subject,
        reason=reason,
        obj=block,
        detail={"purpose": purpose or "*"},
    )
    return block


@transaction.atomic
def processing_block_lift(
    *, block: ProcessingBlock, actor=None, reason: str = ""
) -> ProcessingBlock:
    block = ProcessingBlock.objects.select_for_update().get(pk=block.pk)
    if block.lifted_at is None:
        block.lifted_at = timezone.now()
        block.save(update_fields=["lifted_at"])
        subject = Subject(user_id=block.user_id, email=block.email)
        audit_record(
            action=f"{block.kind}_lifted", actor=actor, subject=subject, reason=reason, obj=block
        )
    return block
