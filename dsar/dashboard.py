"""Sections other apps add to the privacy dashboard (`/privacy/`), without dsar importing them.

    @dashboard_section
    def integrations(request) -> DashboardSection | None: ...

A section is a template and its context; None leaves it out for this person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _


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
    "staff_access_opened": _("Opened a time-limited access to your data"),
    "staff_access_refused": _("Tried to look without a valid reason and was refused"),
}


def staff_actions_label(labels: dict) -> None:
    """Other apps name their own staff actions for "Who looked at my data and why"."""
    STAFF_ACTION_LABELS.update(labels)


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
    """ "Who looked at my data and why", from the audit log."""
    from .registry import Subject
    from .selectors import staff_actions_on

    events = [
        {
            "at": event.at,
            "who": (event.actor.get_full_name() if event.actor else "") or _("A staff member"),
            "what": STAFF_ACTION_LABELS.get(event.action, event.action.replace("_", " ")),
            "why": event.reason,
        }
        for event in staff_actions_on(subject=Subject(user_id=request.user.pk))
    ]
    return DashboardSection(
        template="dsar/dashboard/staff_access.html", context={"events": events}, order=90
    )
