"""Under-16 sweep: among N account holders, every 1000th is 12 years old; the daily sweep finds
them (`child_data_detect`) and the due removals run in batches (`child_removals_run_batch`: claim
the batch, one bulk erasure through the registry, close the rows), as the workers would. Each
minor has an address and three ledger rows.

The baseline finds the same minors and removes them and every row pointing at them with
set-based DELETEs over a temporary table.
"""

from __future__ import annotations

from unittest import mock

from .core import (
    Measurement,
    django_queries,
    measure,
    policy_id,
    purpose_id,
    raw,
    user_foreign_keys,
    user_ids,
    users_ensure,
)

NAME = "child_sweep"
TITLE = "Under-16 sweep (find and remove minors)"
TARGET = 2.0
UNIT = "users"
SIZES = {"smoke": 2_000, "small": 50_000, "large": 1_000_000}
EVERY = 1000


def _prepare(db, size: int) -> int:
    """Bench users 1..size with every EVERY-th a minor (with ledger rows); returns how many."""
    users_ensure(db, size, minors_every=EVERY)
    lo, hi = user_ids(db, size)
    minor = "date_of_birth > current_date - interval '16 years'"
    # By user number (ids have gaps); bench users beyond `size` are all adults.
    number = f"(right(username, 7)::int %% {EVERY} = 0 AND username <= 'bench_{size:07d}')"
    db.execute(
        f"UPDATE accounts_user SET date_of_birth = CASE WHEN {number} "
        "THEN current_date - interval '12 years' ELSE date '1980-01-01' END "
        "WHERE username LIKE 'bench\\_%%' AND username < 'bench_8' "
        f"AND {number} <> ({minor})",
        [],  # parameters given, so that %% is read as %
    )
    db.execute(
        "INSERT INTO consent_consentevent (email, action, method, at, ip_hash, reason, user_id, "
        "policy_version_id, purpose_id) SELECT '', 'granted', 'signup', now() - interval '1 day' "
        "* k, 'x', '', u.id, %s, %s FROM accounts_user u, generate_series(1, 3) AS k "
        f"WHERE u.id BETWEEN %s AND %s AND {minor}",
        [policy_id(db), purpose_id(db, "newsletter"), lo, hi],
    )
    db.execute("ANALYZE accounts_user")
    return db.fetchall(f"SELECT count(*) FROM accounts_user WHERE {minor}")[0][0]


def baseline_sweep(db) -> int:
    with db.transaction():
        db.execute(
            "CREATE TEMP TABLE minors ON COMMIT DROP AS SELECT id, lower(email) AS email "
            "FROM accounts_user WHERE date_of_birth > current_date - interval '16 years'"
        )
        db.execute(
            "DELETE FROM consent_consentevent WHERE user_id IN (SELECT id FROM minors) "
            "OR (user_id IS NULL AND email IN (SELECT email FROM minors))"
        )
        db.execute(
            "DELETE FROM consent_formsubmission WHERE user_id IN (SELECT id FROM minors) "
            "OR email IN (SELECT email FROM minors)"
        )
        for table, column in user_foreign_keys(db):
            db.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT id FROM minors)")
        return db.execute("DELETE FROM accounts_user WHERE id IN (SELECT id FROM minors)")


def run(size: int) -> list[Measurement]:
    from accounts import child_removal

    db = raw()
    try:
        minors = _prepare(db, size)
        django = Measurement(NAME, "django", str(size), rows=size)
        with (
            mock.patch.object(child_removal, "_wake"),
            django_queries() as count,
            measure(django, queries=count),
        ):
            child_removal.child_data_detect()
            # What the woken workers run: one bulk removal per batch of due reports.
            removed = child_removal.child_removals_run_batch(
                report_ids=child_removal.child_removals_due(limit=10**9)
            )
        if not minors and size >= EVERY:
            raise AssertionError("no minors were made")
        if removed != minors:
            raise AssertionError(f"removed {removed} of {minors} minors")
        django.notes.append(
            f"{minors} minors removed; {django.queries / max(minors, 1):.0f} queries per minor"
        )

        again = _prepare(db, size)
        baseline = Measurement(NAME, "baseline", str(size), rows=size)
        db.reset()
        with measure(baseline, queries=lambda: db.statements):
            gone = baseline_sweep(db)
        if gone != again:
            raise AssertionError(f"the baseline removed {gone} of {again} minors")
        return [django, baseline]
    finally:
        db.execute("DELETE FROM accounts_childdatareport WHERE source = 'date_of_birth'")
        db.execute_past_triggers(
            "DELETE FROM dsar_auditevent WHERE action IN "
            "('child_removals_due', 'child_data_removed')"
        )
        users_ensure(db, size)  # the removed minors come back as adults
        db.close()
