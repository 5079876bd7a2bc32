"""Need-to-know staff access: support staff open a person's profile or service data only inside
a time window they opened with a reason tied to a support ticket.

Who needs a window: members of the "Support" group who are not superusers, and any staff member
without a standing need (dsar.staff.staff_scope). Privacy officers do not: they work privacy
requests, whose lawful basis and deadline are the request itself, and every record they list or
open is audited (dsar.admin_gate, the admin's one gate). A person in both groups is treated as
support and needs a window.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dsar.registry import Subject
from dsar.services import audit_record

from .app_settings import app_settings
from .models import StaffAccessWindow, User

SUPPORT_GROUP = "Support"
TICKET_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9]*-[0-9]+$")


def staff_needs_window(user: User) -> bool:
    return (
        user.is_staff and not user.is_superuser and user.groups.filter(name=SUPPORT_GROUP).exists()
    )


def staff_access_window_valid(
    *, staff: User, subject_user_id: int, at: datetime | None = None
) -> StaffAccessWindow | None:
    at = at or timezone.now()
    return (
        StaffAccessWindow.objects.filter(
            staff=staff, subject_user_id=subject_user_id, starts_at__lte=at, expires_at__gt=at
        )
        .order_by("-expires_at")
        .first()
    )


@transaction.atomic
def staff_access_open(
    *, staff: User, subject_user: User, ticket_reference: str, reason: str, minutes: int
) -> StaffAccessWindow:
    """Open a window for `minutes` from now; refused without a ticket, a reason, or beyond the
    longest window allowed."""
    ticket_reference = (ticket_reference or "").strip()
    reason = " ".join((reason or "").split())
    if not staff.is_staff:
        raise ValidationError(_("Only staff open access windows."))
    if staff.pk == subject_user.pk:
        raise ValidationError(_("You do not need a window for your own account."))
    if not TICKET_PATTERN.match(ticket_reference):
        raise ValidationError(_("Give the support ticket this access is for, like SUP-1234."))
    if len(reason) < 15:
        raise ValidationError(
            _("Say why you need to see this person's data (15 characters or more).")
        )
    longest = app_settings.STAFF_ACCESS_MAX_MINUTES
    if not 1 <= minutes <= longest:
        raise ValidationError(_("A window lasts between 1 and %(max)d minutes.") % {"max": longest})
    now = timezone.now()
    window = StaffAccessWindow(
        staff=staff,
        subject_user=subject_user,
        ticket_reference=ticket_reference,
        reason=reason,
        starts_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    window.full_clean()
    window.save()
    audit_record(
        action="staff_access_opened",
        actor=staff,
        subject=Subject(user_id=subject_user.pk),
        reason=f"{ticket_reference}: {reason}",
        obj=window,
        detail={"ticket": ticket_reference, "expires": window.expires_at.isoformat()},
    )
    return window


def staff_access_open_reasons(staff: User) -> dict[int, str]:
    """The people open to `staff` now, each with the ticket and reason of the window
    (dsar.staff reads it for the admin's need-to-know gate)."""
    now = timezone.now()
    windows = (
        StaffAccessWindow.objects.filter(staff=staff, starts_at__lte=now, expires_at__gt=now)
        .order_by("-expires_at")
        .values_list("subject_user_id", "ticket_reference", "reason")
    )
    reasons: dict[int, str] = {}
    for subject_user_id, ticket, reason in windows:
        reasons.setdefault(subject_user_id, f"{ticket}: {reason}")
    return reasons
