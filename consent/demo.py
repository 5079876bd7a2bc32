"""Realistic consent data for the synthetic demo users: ledger rows and reselling partners.

Deterministic and idempotent: user number i always gets the same history, and users who already
have ledger rows are left alone, so seeding again adds only what is missing.
"""

import random
from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from .models import ConsentEvent, Partner, Purpose
from .selectors import policy_version_in_force
from .services import ip_hash

DEMO_PARTNERS = [
    ("northwind", "Northwind Resellers", "Sells Workpex in Ireland and the United Kingdom."),
    ("contoso", "Contoso Partners", "Sells Workpex to public bodies in Germany and Austria."),
    ("fabrikam", "Fabrikam Solutions", "Workpex reseller and integrator for the Nordics."),
]
# How likely a synthetic person is to have agreed at signup, per purpose.
SIGNUP_RATES = {"newsletter": 0.45, "product_updates": 0.35, "events": 0.2, "marketing": 0.1}


def demo_partners_seed() -> list[Partner]:
    partners = []
    for code, name, description in DEMO_PARTNERS:
        partner, _ = Partner.objects.get_or_create(
            code=code, defaults={"name": name, "description": description}
        )
        partners.append(partner)
    return partners


def _history(index: int, user_id: int, joined, purposes, partners, policy) -> list[ConsentEvent]:
    rng = random.Random(index)  # noqa: S311  (demo data, not security)
    hashed = ip_hash(f"198.51.100.{index % 250 + 1}")
    events = []
    for code, rate in SIGNUP_RATES.items():
        if rng.random() < rate:
            at = joined + timedelta(minutes=1)
            events.append(
                ConsentEvent(
                    user_id=user_id,
                    purpose=purposes[code],
                    action="granted",
                    method="signup",
                    policy_version=policy,
                    at=at,
                    ip_hash=hashed,
                )
            )
            if rng.random() < 0.2:  # later, some unsubscribe from a mail
                events.append(
                    ConsentEvent(
                        user_id=user_id,
                        purpose=purposes[code],
                        action="withdrawn",
                        method="unsubscribe_link",
                        policy_version=policy,
                        at=at + timedelta(days=rng.randint(5, 200)),
                        ip_hash=hashed,
                    )
                )
    if partners and rng.random() < 0.15:
        partner = partners[index % len(partners)]
        events.append(
            ConsentEvent(
                user_id=user_id,
                purpose=purposes["partner_notifications"],
                partner=partner,
                action="granted",
                method="preference_centre",
                policy_version=policy,
                at=joined + timedelta(days=3),
                ip_hash=hashed,
            )
        )
    if rng.random() < 0.05:
        events.append(
            ConsentEvent(
                user_id=user_id,
                purpose=purposes["testimonial"],
                action="granted",
                method="preference_centre",
                policy_version=policy,
                at=joined + timedelta(days=10),
                ip_hash=hashed,
            )
        )
    now = timezone.now()
    return [e for e in events if e.at <= now]


def _since(index: int, joined, policy):
    """When the synthetic person signed up: a fixed day between the policy's start and now (the
    synthetic accounts were all created just now, which would make every history empty)."""
    days = max(1, (timezone.now() - policy.effective_at).days - 1)
    return min(joined, policy.effective_at + timedelta(days=(index * 37) % days, hours=9))


def demo_consents_seed(
    *, count: int, batch_size: int = 2000, progress: Callable[[int], None] = lambda n: None
) -> int:
    """Ledger rows for synthetic users 1..count that have none yet; returns how many were added."""
    User = get_user_model()
    partners = demo_partners_seed()
    purposes = {p.code: p for p in Purpose.objects.all()}
    policy = policy_version_in_force()
    if policy is None:
        return 0
    added = 0
    for start in range(1, count + 1, batch_size):
        indexes = range(start, min(start + batch_size, count + 1))
        users = dict(
            User.objects.filter(username__in=[f"user{i:07d}" for i in indexes]).values_list(
                "username", "pk"
            )
        )
        joined = dict(User.objects.filter(pk__in=users.values()).values_list("pk", "date_joined"))
        done = set(
            ConsentEvent.objects.filter(user_id__in=users.values())
            .values_list("user_id", flat=True)
            .distinct()
        )
        rows = []
        for i in indexes:
            user_id = users.get(f"user{i:07d}")
            if user_id is None or user_id in done:
                continue
            rows.extend(
                _history(i, user_id, _since(i, joined[user_id], policy), purposes, partners, policy)
            )
        with transaction.atomic():
            ConsentEvent.objects.bulk_create(rows, batch_size=batch_size)
        added += len(rows)
        progress(len(indexes))
    return added
