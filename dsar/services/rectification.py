"""Rectification (GDPR Art. 16): a person's proposed corrections, checked when they are filed,
kept with their history, and shown to the officer beside the value we hold."""

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import registry
from ..models import DataSubjectRequest, RectificationProposal
from .base import RequestError, audit_record, request_subject


def rectification_value_check(*, target: str, value: str) -> str:
    """The proposed value, checked by the owning field's form field and normalised; a value that
    field would refuse raises RequestError with its message, so nothing is filed."""
    try:
        return registry.rectification_value_clean(target, value)
    except ValidationError as error:
        found = registry.rectification_field(target)
        if found is None:
            raise RequestError(_("Choose a field from the list.")) from None
        raise RequestError(
            _("“%(value)s” is not a valid %(field)s: %(why)s")
            % {
                "value": value.strip(),
                "field": found[1].verbose_name,
                "why": " ".join(error.messages),
            }
        ) from None


def rectification_propose(
    *, request: DataSubjectRequest, target: str, value: str, actor
) -> RectificationProposal:
    """Add a proposed correction to a request (`value` checked by `rectification_value_check`).

    A second value for a field whose first is still waiting replaces it for the decision, but
    both stay: the earlier one is marked superseded and points at the later, so the person and
    the officer see what was asked and when, and the officer decides only the latest value (two
    pending values for one field could both be applied, and the recipients told of a value the
    person already took back). A value for a field already decided is a new proposal. Giving
    the pending value again changes nothing."""
    pending = (
        request.rectifications.select_for_update()
        .filter(target=target, decision=RectificationProposal.Decision.PENDING)
        .first()
    )
    if pending is not None and pending.proposed_value == value:
        return pending
    subject = request_subject(request)
    now = timezone.now()
    if pending is not None:
        pending.decision = RectificationProposal.Decision.SUPERSEDED
        pending.decided_at = now
        pending.save(update_fields=["decision", "decided_at"])
    proposal = RectificationProposal(
        request=request, target=target, proposed_value=value, proposed_at=now
    )
    proposal.full_clean(exclude=["request", "superseded_by"])
    proposal.save()
    audit_record(
        action="rectification_proposed",
        actor=actor,
        subject=subject,
        obj=proposal,
        detail={"target": target},
    )
    if pending is not None:
        pending.superseded_by = proposal
        pending.save(update_fields=["superseded_by"])
        audit_record(
            action="rectification_superseded",
            actor=actor,
            subject=subject,
            obj=pending,
            detail={"target": target, "by": proposal.pk},
        )
    return proposal


def dsar_rectification_current_values(*, request: DataSubjectRequest, actor) -> dict[str, str]:
    """What we hold now for each field the request asks to correct, for the officer to compare
    with the proposed value. Staff reading a person's data: written to the audit log, with the
    request as the reason."""
    targets = sorted(set(request.rectifications.values_list("target", flat=True)))
    if not targets:
        return {}
    subject = request_subject(request)
    current = {}
    for target in targets:
        found = registry.rectification_field(target)
        if found is None or subject is None:
            current[target] = "—"
            continue
        entry, model_field = found
        values = entry.rows_for(subject).values_list(model_field.name, flat=True)[:10]
        shown = [registry.rectification_value_display(target, value) for value in values]
        current[target] = ", ".join(shown) or "—"
    audit_record(
        action="staff_viewed_current_values",
        actor=actor,
        subject=subject,
        obj=request,
        reason=_("Rectification request %(ref)s") % {"ref": request.reference},
        detail={"targets": targets},
    )
    return current
