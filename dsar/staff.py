"""Who among the staff works privacy requests, and which requests each of them sees.

A staff member works requests with the `dsar.work_request` permission, held directly or through
a group (the "Privacy officer" role has it). Someone without it sees only the requests assigned
to them. Other apps may narrow that further without dsar importing them: `accounts` registers its
need-to-know rule (support staff see only what is assigned to them, even with the permission).
"""

from collections.abc import Callable

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
