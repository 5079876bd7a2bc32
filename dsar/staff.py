"""Who among the staff works privacy requests, and which requests each of them sees.

A staff member works requests with the `dsar.work_request` permission, held directly or through
a group (the "Privacy officer" role has it). Someone without it sees only the requests assigned
to them. Other apps may narrow that further without dsar importing them: `accounts` registers its
need-to-know rule (support staff see only what is assigned to them, even with the permission).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q, QuerySet

WORK_PERMISSION = "dsar.work_request"

_only_assigned_rules: list[Callable[[object], bool]] = []


def staff_limited_to_assigned(rule: Callable[[object], bool]) -> Callable[[object], bool]:
    """Register a rule: staff for whom it is true see only the requests assigned to them."""
    _only_assigned_rules.append(rule)
    return rule


def staff_sees_only_assigned(user) -> bool:
    return not user.has_perm(WORK_PERMISSION) or any(rule(user) for rule in _only_assigned_rules)


def staff_can_work_requests(user) -> bool:
    return bool(
        user is not None and user.is_active and user.is_staff and user.has_perm(WORK_PERMISSION)
    )


def staff_assignable() -> QuerySet:
    """Active staff allowed to work requests, by username."""
    app_label, codename = WORK_PERMISSION.split(".")
    permission = Permission.objects.filter(
        content_type__app_label=app_label, codename=codename
    ).first()
    allowed = Q(is_superuser=True)
    if permission is not None:
        allowed |= Q(user_permissions=permission) | Q(groups__permissions=permission)
    user_model = get_user_model()
    ids = user_model.objects.filter(allowed, is_active=True, is_staff=True).values("pk")
    return user_model.objects.filter(pk__in=ids).order_by(user_model.USERNAME_FIELD)


# --- Need to know in the admin ----------------------------------------------------------------
# Who may list, search and open people's data in the admin, and why (dsar.admin's gate reads it).
# A standing need belongs to superusers and to staff who work every request; everyone else sees
# only the people for whom a registered source names a reason (accounts: an open access window).

STANDING_ADMIN = "administrator"
STANDING_OFFICER = "privacy_officer"
STANDING_OWN = "own_rule"  # an admin with its own need-to-know rule (the review queue)
STANDING_REASONS = {
    STANDING_ADMIN: "Administrator: standing access",
    STANDING_OFFICER: "Privacy officer: standing need to know (privacy requests and the law)",
}
WINDOW_REASON = "Inside an open access window"

_window_sources: list[Callable[[object], dict[int, str]]] = []


def staff_window_source(source: Callable[[object], dict[int, str]]):
    """Register where staff without a standing need get their need: source(user) returns
    {person's user id: the stated reason} of what is open to them now."""
    _window_sources.append(source)
    return source


@dataclass(frozen=True)
class StaffScope:
    """Whose data a staff member may see in the admin now: everyone (`standing` names the need)
    or only the people in `reasons`, each with the reason given for them."""

    standing: str = ""
    reasons: dict[int, str] = field(default_factory=dict)
    own_reason: str = ""

    @property
    def limited(self) -> bool:
        return not self.standing

    def reason_for(self, user_id: int | None) -> str:
        if self.standing:
            return self.own_reason or STANDING_REASONS[self.standing]
        return self.reasons.get(user_id, "") if user_id is not None else ""

    def any_reason(self) -> str:
        """The reason for rows that name no account (an address only)."""
        return self.reason_for(None) or WINDOW_REASON


def staff_scope(user) -> StaffScope:
    if user.is_superuser:
        return StaffScope(standing=STANDING_ADMIN)
    if not staff_sees_only_assigned(user):
        return StaffScope(standing=STANDING_OFFICER)
    reasons: dict[int, str] = {}
    for source in _window_sources:
        for user_id, reason in source(user).items():
            reasons.setdefault(user_id, reason)
    return StaffScope(reasons=reasons)
