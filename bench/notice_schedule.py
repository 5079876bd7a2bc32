"""Policy-notice scheduling: publishing a material policy version makes one pending
`PolicyNotice` per active account holder (`policy_version_publish`, one INSERT … SELECT).

N bench users are active (the demo logins and `seed_demo` users too, so the rows are a few more
than N). The baseline publishes with a raw UPDATE and makes the same rows with the same
INSERT … SELECT through psycopg. Celery is not woken (the fan-out is measured elsewhere).
"""

from __future__ import annotations

import time
from unittest import mock

from .core import Measurement, django_queries, measure, raw, users_ensure

NAME = "notice_schedule"
TITLE = "Policy-notice scheduling"
TARGET = 2.0
UNIT = "users"
SIZES = {"smoke": 500, "small": 10_000, "large": 100_000}


def version_draft(db, tag: str) -> int:
    """An unpublished material version that may be published now (30 days' notice)."""
    latest = db.fetchall(
        "SELECT max(effective_at) FROM consent_policyversion WHERE published_at IS NOT NULL"
    )[0][0]
    return db.fetchall(
        "INSERT INTO consent_policyversion (version, text, summary_of_changes, is_material, "
        "effective_at, created_at) VALUES (%s, 'Bench policy text.', 'Bench change.', true, "
        "greatest(now() + interval '31 days', %s + interval '1 day'), now()) RETURNING id",
        [f"b{tag}{int(time.time() * 1000) % 10**12}", latest],
    )[0][0]


def version_drop(db, version_id: int) -> None:
    db.execute("DELETE FROM consent_policynotice WHERE version_id = %s", [version_id])
    db.execute_past_triggers(
        "DELETE FROM dsar_auditevent WHERE object_type = 'consent.policyversion' "
        "AND object_id = %s",
        [str(version_id)],
    )
    db.execute("DELETE FROM consent_policyversion WHERE id = %s", [version_id])


def run(size: int) -> list[Measurement]:
    from consent import policies
    from consent.models import PolicyVersion

    db = raw()
    users_ensure(db, size)
    db.execute(
        "UPDATE accounts_user SET is_active = (username <= %s) WHERE username LIKE 'bench\\_%%' "
        "AND username < 'bench_8' AND is_active <> (username <= %s)",
        [f"bench_{size:07d}", f"bench_{size:07d}"],
    )
    # Vacuumed: the first reader of rows just updated would pay for their hint bits.
    db.execute("VACUUM ANALYZE accounts_user")
    versions: list[int] = []
    try:
        versions.append(version_draft(db, "d"))
        django = Measurement(NAME, "django", str(size), rows=0)
        policy = PolicyVersion.objects.get(pk=versions[-1])
        with (
            mock.patch.object(policies, "_wake"),
            django_queries() as count,
            measure(django, queries=count),
        ):
            policies.policy_version_publish(policy=policy)
        django.rows = db.fetchall(
            "SELECT count(*) FROM consent_policynotice WHERE version_id = %s", [versions[-1]]
        )[0][0]
        version_drop(db, versions.pop())

        versions.append(version_draft(db, "r"))
        baseline = Measurement(NAME, "baseline", str(size), rows=0)
        db.reset()
        with measure(baseline, queries=lambda: db.statements), db.transaction():
            db.execute(
                "UPDATE consent_policyversion SET published_at = now(), notices_started_at = now() "
                "WHERE id = %s",
                [versions[-1]],
            )
            baseline.rows = db.execute(
                "INSERT INTO consent_policynotice (version_id, user_id, state, attempts, "
                "next_attempt_at, error, created_at) SELECT %s, id, 'pending', 0, now(), '', now() "
                "FROM accounts_user WHERE is_active ON CONFLICT DO NOTHING",
                [versions[-1]],
            )
        if baseline.rows != django.rows:
            raise AssertionError(
                f"notices: Django made {django.rows}, the baseline {baseline.rows}"
            )
        return [django, baseline]
    finally:
        for version_id in versions:
            version_drop(db, version_id)
        db.execute(
            "UPDATE accounts_user SET is_active = true WHERE username LIKE 'bench\\_%%' "
            "AND NOT is_active"
        )
        db.close()
