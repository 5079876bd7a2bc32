"""Consent gate: `contactable(users, purpose="newsletter")` over N recipients.

Each recipient has three ledger rows for the purpose (the latest decides) and a verified
address. The baseline is one hand-written query: DISTINCT ON for the latest row per user, the
verified-address and no-restriction checks as EXISTS / NOT EXISTS. Both must return the same
recipients (checked).
"""

from __future__ import annotations

from .core import (
    Measurement,
    consent_events_add,
    django_queries,
    measure,
    purpose_id,
    raw,
    user_ids,
    users_ensure,
)

NAME = "consent_gate"
TITLE = "Consent gate (bulk can_contact)"
TARGET = 1.5
UNIT = "recipients"
SIZES = {"smoke": 500, "small": 10_000, "large": 100_000}

BASELINE_SQL = """
WITH latest AS (
    SELECT DISTINCT ON (user_id) user_id, action
    FROM consent_consentevent
    WHERE purpose_id = %(purpose)s AND user_id BETWEEN %(lo)s AND %(hi)s
    ORDER BY user_id, at DESC, id DESC
)
SELECT u.id, lower(u.email)
FROM accounts_user u JOIN latest l ON l.user_id = u.id
WHERE u.id BETWEEN %(lo)s AND %(hi)s AND l.action = 'granted'
  AND EXISTS (SELECT 1 FROM account_emailaddress e
              WHERE e.user_id = u.id AND upper(e.email) = upper(u.email) AND e.verified)
  AND NOT EXISTS (SELECT 1 FROM dsar_processingblock b
                  WHERE b.lifted_at IS NULL AND b.purpose IN ('', 'newsletter', 'direct_marketing')
                    AND (b.user_id = u.id OR lower(b.email) = lower(u.email)))
"""


def run(size: int) -> list[Measurement]:
    from accounts.models import User
    from consent.selectors import contactable

    db = raw()
    users_ensure(db, size)
    lo, hi = user_ids(db, size)
    newsletter = purpose_id(db, "newsletter")
    db.execute(
        "DELETE FROM consent_consentevent WHERE purpose_id = %s AND user_id BETWEEN %s AND %s",
        [newsletter, lo, hi],
    )
    consent_events_add(db, lo=lo, hi=hi, purpose=newsletter, per_user=3)
    db.execute("ANALYZE consent_consentevent")
    db.execute("ANALYZE accounts_user")
    try:
        django = Measurement(NAME, "django", str(size), rows=size)
        with django_queries() as count, measure(django, queries=count):
            recipients = contactable(User.objects.filter(pk__range=(lo, hi)), purpose="newsletter")
            allowed = sum(1 for _ in recipients.values_list("pk", "consent_email").iterator(5000))
        baseline = Measurement(NAME, "baseline", str(size), rows=size)
        db.reset()
        with measure(baseline, queries=lambda: db.statements):
            expected = len(db.fetchall(BASELINE_SQL, {"purpose": newsletter, "lo": lo, "hi": hi}))
        if allowed != expected:
            raise AssertionError(f"contactable let {allowed} through, the baseline {expected}")
        django.notes.append(f"{allowed} of {size} may be contacted")
        return [django, baseline]
    finally:
        db.execute(
            "DELETE FROM consent_consentevent WHERE purpose_id = %s AND user_id BETWEEN %s AND %s",
            [newsletter, lo, hi],
        )
        db.close()
