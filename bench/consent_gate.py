"""Consent gate: `contactable(users, purpose="newsletter")` over N recipients.

The recipients are bench users 1..N (by user name: their ids are not contiguous, since other
benchmarks remove and re-add bench users). Each has three ledger rows for the purpose (the
latest decides) and a verified address. The ledger is vacuumed before both runs, so neither
pays for setting the hint bits of fresh rows. The baseline is one hand-written query: DISTINCT
ON for the latest purpose-wide row per user and for the latest row that decides the email
channel (an email switch or a purpose-wide withdrawal), the verified-address and no-restriction
checks as EXISTS / NOT EXISTS. Both must return the same recipients (checked).
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
WITH recipients AS (
    SELECT id FROM accounts_user WHERE username BETWEEN %(first)s AND %(last)s
), latest AS (
    SELECT DISTINCT ON (user_id) user_id, action
    FROM consent_consentevent
    WHERE purpose_id = %(purpose)s AND user_id IN (SELECT id FROM recipients) AND channel = ''
    ORDER BY user_id, at DESC, id DESC
), email_switch AS (
    SELECT DISTINCT ON (user_id) user_id, channel, action
    FROM consent_consentevent
    WHERE purpose_id = %(purpose)s AND user_id IN (SELECT id FROM recipients)
      AND (channel = 'email' OR (channel = '' AND action = 'withdrawn'))
    ORDER BY user_id, at DESC, id DESC
)
SELECT u.id, lower(u.email)
FROM accounts_user u JOIN latest l ON l.user_id = u.id
LEFT JOIN email_switch s ON s.user_id = u.id
WHERE u.username BETWEEN %(first)s AND %(last)s AND l.action = 'granted'
  AND NOT (COALESCE(s.channel, '') = 'email' AND s.action = 'withdrawn')
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
    first, last = "bench_0000001", f"bench_{size:07d}"
    newsletter = purpose_id(db, "newsletter")
    db.execute(
        "DELETE FROM consent_consentevent WHERE purpose_id = %s AND user_id BETWEEN %s AND %s",
        [newsletter, lo, hi],
    )
    consent_events_add(
        db,
        lo=lo,
        hi=hi,
        purpose=newsletter,
        per_user=3,
        users=f"u.username BETWEEN '{first}' AND '{last}'",
    )
    db.execute("VACUUM ANALYZE consent_consentevent")
    db.execute("ANALYZE accounts_user")
    try:
        django = Measurement(NAME, "django", str(size), rows=size)
        with django_queries() as count, measure(django, queries=count):
            recipients = contactable(
                User.objects.filter(username__range=(first, last)), purpose="newsletter"
            )
            allowed = sum(1 for _ in recipients.values_list("pk", "consent_email").iterator(5000))
        baseline = Measurement(NAME, "baseline", str(size), rows=size)
        db.reset()
        with measure(baseline, queries=lambda: db.statements):
            expected = len(
                db.fetchall(BASELINE_SQL, {"purpose": newsletter, "first": first, "last": last})
            )
        if allowed != expected:
            raise AssertionError(f"contactable let {allowed} through, the baseline {expected}")
        if not 0 < allowed < size:
            raise AssertionError(f"{allowed} of {size} recipients: the data is not as meant")
        django.notes.append(f"{allowed} of {size} may be contacted")
        return [django, baseline]
    finally:
        db.execute(
            "DELETE FROM consent_consentevent WHERE purpose_id = %s AND user_id BETWEEN %s AND %s",
            [newsletter, lo, hi],
        )
        db.close()
