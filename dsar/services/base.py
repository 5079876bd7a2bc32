"""Shared by the services: the refusal error, the audit log, the request timeline."""

from collections.abc import Iterator

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from ..models import (
    AuditEvent,
    DataSubjectRequest,
    RequestEvent,
)
from ..registry import Subject
from ..spreadsheet import SpreadsheetWriter


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


def audit_record_views(
    *,
    action: str,
    actor,
    subjects: dict[Subject | None, str],
    object_type: str = "",
    object_id: str = "",
    detail: dict | None = None,
) -> list[AuditEvent]:
    """One audit event per person a staff member was shown (a list or a search names many at
    once), each with the reason that applies to that person; in one INSERT. `subjects` maps each
    person (None: rows naming nobody) to the reason."""
    actor_kind = "system" if actor is None else ("staff" if actor.is_staff else "subject")
    return AuditEvent.objects.bulk_create(
        AuditEvent(
            action=action,
            actor=actor,
            actor_kind=actor_kind,
            subject_ref=subject.ref if subject else "",
            reason=reason,
            object_type=object_type,
            object_id=object_id,
            detail=detail or {},
        )
        for subject, reason in subjects.items()
    )


AUDIT_EXPORT_COLUMNS = (
    "at",
    "action",
    "actor",
    "actor_kind",
    "subject_ref",
    "object_type",
    "object_id",
    "reason",
)


class _Line:
    def write(self, value: str) -> str:
        return value


def audit_log_export(
    *, actor, events: QuerySet, person: Subject | None, filters: list[str]
) -> Iterator[str]:
    """The audit events, as CSV lines for a spreadsheet; the export itself is audited first
    (who, how many rows, which filters by name: their values may name the person)."""
    # The file holds the events up to this moment, not the export's own row written next.
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    events = events.filter(pk__lte=last).select_related("actor").order_by("-at", "-id")
    audit_record(
        action="audit_log_exported",
        actor=actor,
        subject=person,
        reason="Audit log export",
        detail={"rows": events.count(), "filters": filters},
    )
    writer = SpreadsheetWriter(_Line())

    def lines():
        yield writer.writerow(AUDIT_EXPORT_COLUMNS)
        for event in events.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    event.at.isoformat(),
                    event.action,
                    event.actor.get_username() if event.actor else "",
                    event.actor_kind,
                    event.subject_ref,
                    event.object_type,
                    event.object_id,
                    event.reason,
                ]
            )

    return lines()


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
