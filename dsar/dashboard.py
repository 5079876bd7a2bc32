"""Sections other apps add to the privacy dashboard (`/privacy/`), without dsar importing them.

    @dashboard_section
    def integrations(request) -> DashboardSection | None: ...

A section is a template and its context; None leaves it out for this person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.utils.translation import gettext_lazy as _

from .models import RequestState
from .staff import STANDING_ADMIN, STANDING_OFFICER, STANDING_REASONS, WINDOW_REASON


@dataclass(frozen=True)
class DashboardSection:
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 50


_sections: list[Callable[[Any], DashboardSection | None]] = []


def dashboard_section(func: Callable[[Any], DashboardSection | None]):
    """Register a function that builds one section of a person's dashboard (a decorator)."""
    _sections.append(func)
    return func


def dashboard_sections(request) -> list[DashboardSection]:
    built = [section(request) for section in _sections]
    return sorted((s for s in built if s is not None), key=lambda s: s.order)


STAFF_ACTION_LABELS = {
    "staff_viewed_profile": _("Looked at your profile"),
    "staff_viewed_service_data": _("Looked at your service data"),
    "staff_viewed_request": _("Looked at your privacy request"),
    "staff_viewed_testimonial": _("Looked at your testimonial"),
    "staff_viewed_devices": _("Looked at your registered devices"),
    "staff_viewed_record": _("Looked at a record about you"),
    "staff_viewed_history": _("Looked at the change history of a record about you"),
    "staff_viewed_child_report": _("Looked at a report about a child's data"),
    "consent_event_viewed": _("Looked at your consent record"),
    "form_submission_viewed": _("Looked at a form you sent us"),
    "staff_access_opened": _("Opened a time-limited access to your data"),
    "staff_access_refused": _("Tried to look without a valid reason and was refused"),
    "request_assigned": _("Took on your privacy request"),
    "request_extended": _("Extended the deadline of your privacy request"),
    "request_logged": _("Recorded a privacy request you sent by mail, letter or phone"),
}
# Lists and searches name the kind of record: "Saw you in a list of users".
LIST_LABELS = {
    "staff_listed": _("Saw you in a list of %(things)s"),
    "staff_searched": _("Found you in a search of %(things)s"),
}
# Reasons the system records in English (dsar.staff, dsar.admin_gate), shown in the person's
# language.
REASON_LABELS = {
    STANDING_REASONS[STANDING_ADMIN]: _("An administrator, who has standing access"),
    STANDING_REASONS[STANDING_OFFICER]: _(
        "A privacy officer, whose work on privacy requests and the law needs it"
    ),
    WINDOW_REASON: _("Inside a time-limited access they opened with a reason"),
    "Assigned to work this privacy request": _("Assigned to work on your privacy request"),
    "No valid access window.": _("They had not opened a time-limited access with a reason"),
    "Reviewer: the review queue (content only while assigned)": _(
        "A reviewer working the manual-review queue (who sees content only of items assigned "
        "to them)"
    ),
}
# Actions without a label of their own are named by their family, never by their code.
FAMILY_LABELS = (
    ("request_", _("Worked on your privacy request"), _("To handle your privacy request")),
    ("export_", _("Worked on the copy of your data"), _("To handle your privacy request")),
    ("rectification_", _("Worked on a correction you asked for"), _("To handle your request")),
    ("erasure_", _("Worked on the erasure of your data"), _("To handle your privacy request")),
    ("transfer_", _("Worked on a transfer of your data"), _("To handle your privacy request")),
    ("recipient_", _("Told a recipient of your data"), _("To handle your privacy request")),
    ("child_", _("Handled a report about a child's data"), _("To protect a child's data")),
    ("consent_", _("Recorded a consent choice"), _("On your written request")),
    ("staff_review", _("Worked on an item you sent for manual review"), ""),
)


def staff_actions_label(labels: dict) -> None:
    """Other apps name their own staff actions for "Who looked at my data and why"."""
    STAFF_ACTION_LABELS.update(labels)


def _model_plural(label: str) -> str:
    try:
        return str(apps.get_model(label)._meta.verbose_name_plural)
    except (LookupError, ValueError):
        return str(_("records"))


def staff_action_text(action: str, object_type: str = "") -> str:
    """What a staff member did, in plain words."""
    if action in LIST_LABELS:
        return str(LIST_LABELS[action]) % {"things": _model_plural(object_type)}
    if action in STAFF_ACTION_LABELS:
        return str(STAFF_ACTION_LABELS[action])
    state = action.removeprefix("request_")
    if state in RequestState.values:
        return str(_("Moved your privacy request on: %(state)s")) % {
            "state": RequestState(state).label
        }
    for prefix, label, _why in FAMILY_LABELS:
        if action.startswith(prefix):
            return str(label)
    return str(_("Worked with your data"))


def staff_reason_text(action: str, reason: str) -> str:
    """Why, in plain words: the stated reason, or what the action itself was for."""
    if reason in REASON_LABELS:
        return str(REASON_LABELS[reason])
    if reason:
        return reason
    for prefix, _label, why in FAMILY_LABELS:
        if action.startswith(prefix) and why:
            return str(why)
    return str(_("Part of their work at Workpex (no reason was recorded at the time)"))


@dashboard_section
def transfers_section(request) -> DashboardSection:
    """Where the person sent their portable data (GDPR Art. 20(2)), and revoking unused links."""
    from .selectors import transfers_of_user

    return DashboardSection(
        template="dsar/dashboard/transfers.html",
        context={"transfers": list(transfers_of_user(user=request.user)[:50])},
        order=15,
    )


@dashboard_section
def processing_blocks_section(request) -> DashboardSection:
    """The restrictions and objections in force: which uses, since when, from which request."""
    from .registry import Subject
    from .selectors import processing_blocks_shown

    subject = Subject(user_id=request.user.pk, email=request.user.email)
    return DashboardSection(
        template="dsar/dashboard/blocks.html",
        context={"blocks": processing_blocks_shown(subject=subject)},
        order=12,
    )


@dashboard_section
def staff_access_section(request) -> DashboardSection:
    """ "Who looked at my data and why", from the audit log: one line per sitting."""
    from .registry import Subject
    from .selectors import staff_looks_on

    events = [
        {
            "at": look.last.at,
            "first_at": look.first.at,
            "count": look.count,
            "who": (look.actor.get_full_name() if look.actor else "") or _("A staff member"),
            "what": staff_action_text(look.action, look.object_type),
            "why": staff_reason_text(look.action, look.reason),
        }
        for look in staff_looks_on(
            subject=Subject(user_id=request.user.pk, email=request.user.email or "")
        )
    ]
    return DashboardSection(
        template="dsar/dashboard/staff_access.html", context={"events": events}, order=90
    )
