"""Shared by the services: the refusal error, the audit log, the request timeline."""

from django.core.exceptions import ValidationError

from ..models import (
    AuditEvent,
    DataSubjectRequest,
    RequestEvent,
)
from ..registry import Subject


class RequestError(ValidationError):
    """A refused change to a request; nothing was changed."""


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


def request_subject(request: DataSubjectRequest) -> Subject | None:
    """Whose request it is; None once erasure has detached the request from the person."""
    if request.user_id is None and not request.email:
        return None
    return Subject(user_id=request.user_id, email=request.email if not request.user_id else "")


def _event(request, kind, *, actor=None, text="", internal=False, from_state="", to_state=""):
    return RequestEvent.objects.create(
        request=request,
        kind=kind,
        actor=actor,
        text=text,
        internal=internal,
        from_state=from_state,
        to_state=to_state,
    )
