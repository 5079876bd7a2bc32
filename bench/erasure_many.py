"""Erasure of many subjects: N account holders, each with an address, three ledger rows, a form
submission and an audit event, erased through the registry together (`erasure_erase_subjects`,
the set-based bulk eraser that the under-16 sweep's batch removals call: one condition per
registry entry for each chunk of 5000 subjects).

The baseline erases the same people with set-based statements over a temporary table of ids.
"""

from __future__ import annotations

from .core import (
    Measurement,
    bench_users_delete,
    consent_events_add,
    django_queries,
    measure,
    purpose_id,
    raw,
    user_foreign_keys,
)

NAME = "erasure_many"
TITLE = "Erasure of many subjects (through the registry)"
TARGET = 3.0
UNIT = "subjects"
SIZES = {"smoke": 20, "small": 100, "large": 10_000}
FIRST_NUMBER = 8_000_001  # bench users 8000001.. belong to this benchmark


def _prepare(db, size: int) -> tuple[int, int]:
    where = "u.username BETWEEN %s AND %s"
    bounds = [f"bench_{FIRST_NUMBER:07d}", f"bench_{FIRST_NUMBER + 999_999:07d}"]
    bench_users_delete(db, where=where, params=bounds)
    db.execute(
        "INSERT INTO accounts_user (password, is_superuser, username, is_staff, is_active, "
        "date_joined, full_name, email, phone, company_name, country, date_of_birth, photo, "
        "time_zone, language, security_question, security_answer_hash, region) "
        "SELECT '!', false, 'bench_' || n, false, true, now(), 'Erased Person ' || n, "
        "'bench_' || n || '@bench.invalid', '', 'Bench Ltd', 'IE', '1980-01-01', '', '', 'en', "
        "'', '', '' FROM generate_series(%s, %s) AS n",
        [FIRST_NUMBER, FIRST_NUMBER + size - 1],
    )
    lo, hi = db.fetchall(
        "SELECT min(id), max(id) FROM accounts_user WHERE username BETWEEN %s AND %s", bounds
    )[0]
    db.execute(
        'INSERT INTO account_emailaddress (email, verified, "primary", user_id) '
        "SELECT email, true, true, id FROM accounts_user WHERE id BETWEEN %s AND %s",
        [lo, hi],
    )
    consent_events_add(db, lo=lo, hi=hi, purpose=purpose_id(db, "newsletter"), per_user=3)
    db.execute(
        "INSERT INTO consent_formsubmission (kind, email, name, company_name, message, details, "
        "purpose, source, created_at, retain_until, user_id, from_child) "
        "SELECT 'contact_request', lower(email), full_name, 'Bench Ltd', 'Please call me.', "
        "'{}'::jsonb, 'To answer you.', '/forms/contact/', now(), now() + interval '1 year', id, "
        "false FROM accounts_user WHERE id BETWEEN %s AND %s",
        [lo, hi],
    )
    db.execute(
        "INSERT INTO dsar_auditevent (at, actor_kind, action, subject_ref, object_type, "
        "object_id, reason, detail) SELECT now(), 'staff', 'profile_viewed', 'user:' || id, "
        "'accounts.user', id::text, 'Ticket SUP-1: asked about an invoice', '{}'::jsonb "
        "FROM accounts_user WHERE id BETWEEN %s AND %s",
        [lo, hi],
    )
    db.execute("ANALYZE")
    return lo, hi


def baseline_erase(db, *, lo: int, hi: int) -> None:
    with db.transaction():
        db.execute(
            "CREATE TEMP TABLE erase_now ON COMMIT DROP AS "
            "SELECT id, lower(email) AS email, 'user:' || id AS ref FROM accounts_user "
            "WHERE id BETWEEN %s AND %s",
            [lo, hi],
        )
        db.execute(
            "DELETE FROM consent_consentevent WHERE user_id IN (SELECT id FROM erase_now) "
            "OR (user_id IS NULL AND email IN (SELECT email FROM erase_now))"
        )
        db.execute(
            "DELETE FROM consent_formsubmission WHERE user_id IN (SELECT id FROM erase_now) "
            "OR email IN (SELECT email FROM erase_now)"
        )
        db.execute(
            "UPDATE dsar_auditevent SET reason = '[erased]' WHERE subject_ref IN "
            "(SELECT ref FROM erase_now) AND reason NOT IN ('', '[erased]')"
        )
        for table, column in user_foreign_keys(db):
            db.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT id FROM erase_now)")
        db.execute("DELETE FROM accounts_user WHERE id IN (SELECT id FROM erase_now)")


def _audit_cleanup(db, lo: int, hi: int) -> None:
    db.execute_past_triggers(
        "DELETE FROM dsar_auditevent WHERE subject_ref = ANY(%s)",
        [[f"user:{i}" for i in range(lo, hi + 1)]],
    )


def run(size: int) -> list[Measurement]:
    from dsar.erasure import erasure_erase_subjects
    from dsar.registry import Subject

    db = raw()
    try:
        lo, hi = _prepare(db, size)
        subjects = [
            Subject(user_id=pk, email=email)
            for pk, email in db.fetchall(
                "SELECT id, lower(email) FROM accounts_user WHERE id BETWEEN %s AND %s ORDER BY id",
                [lo, hi],
            )
        ]
        rows = db.fetchall(
            "SELECT (SELECT count(*) FROM consent_consentevent WHERE user_id BETWEEN %(lo)s AND "
            "%(hi)s) + (SELECT count(*) FROM consent_formsubmission WHERE user_id BETWEEN %(lo)s "
            "AND %(hi)s) + 3 * %(n)s",
            {"lo": lo, "hi": hi, "n": size},
        )[0][0]  # + per subject: the account, its address, its audit event
        django = Measurement(NAME, "django", str(size), rows=size)
        with django_queries() as count, measure(django, queries=count):
            erasure_erase_subjects(subjects=subjects)
        left = db.fetchall(
            "SELECT count(*) FROM accounts_user WHERE id BETWEEN %s AND %s", [lo, hi]
        )[0][0]
        if left:
            raise AssertionError(f"{left} accounts were not erased")
        django.notes.append(f"{rows} rows; {django.queries / size:.0f} queries per subject")
        _audit_cleanup(db, lo, hi)

        lo, hi = _prepare(db, size)
        baseline = Measurement(NAME, "baseline", str(size), rows=size)
        db.reset()
        with measure(baseline, queries=lambda: db.statements):
            baseline_erase(db, lo=lo, hi=hi)
        _audit_cleanup(db, lo, hi)
        return [django, baseline]
    finally:
        bench_users_delete(
            db,
            where="u.username BETWEEN %s AND %s",
            params=[f"bench_{FIRST_NUMBER:07d}", f"bench_{FIRST_NUMBER + 999_999:07d}"],
        )
        db.close()
