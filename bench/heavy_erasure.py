"""Heavy-subject erasure: one subject holding N rows (ledger, form submissions, audit events)
erased through the registry (`erasure_erase_subject`).

The baseline is hand-written set-based SQL on the same rows: one DELETE per table (and the
UPDATE that blanks the audit reasons), then the account. Both run on freshly made, identical
data; the Django path must never send one statement per row.
"""

from __future__ import annotations

from .core import (
    Measurement,
    bench_users_delete,
    django_queries,
    measure,
    raw,
    subject_rows_add,
    user_ensure_one,
    user_foreign_keys,
)

NAME = "heavy_erasure"
TITLE = "Heavy-subject erasure (one subject, many rows)"
TARGET = 3.0
UNIT = "rows"
SIZES = {"smoke": 500, "small": 10_000, "large": 100_000}
SUBJECT_NUMBER = 9_000_002


def _prepare(db, size: int) -> tuple[int, str]:
    bench_users_delete(db, where="u.username = %s", params=[f"bench_{SUBJECT_NUMBER:07d}"])
    user_id, email = user_ensure_one(db, SUBJECT_NUMBER)
    subject_rows_add(db, user_id=user_id, email=email, rows=size)
    db.execute("ANALYZE consent_consentevent")
    db.execute("ANALYZE consent_formsubmission")
    db.execute("ANALYZE dsar_auditevent")
    return user_id, email


def baseline_erase(db, *, user_id: int, email: str) -> None:
    """What erasure does to this subject, in set-based statements."""
    ref = f"user:{user_id}"
    with db.transaction():
        db.execute(
            "DELETE FROM consent_consentevent WHERE user_id = %s "
            "OR (user_id IS NULL AND email = %s)",
            [user_id, email],
        )
        db.execute(
            "DELETE FROM consent_formsubmission WHERE user_id = %s OR email = %s",
            [user_id, email],
        )
        db.execute(
            "UPDATE dsar_auditevent SET reason = '[erased]' WHERE subject_ref = %s "
            "AND reason NOT IN ('', '[erased]')",
            [ref],
        )
        for table, column in user_foreign_keys(db):
            db.execute(f"DELETE FROM {table} WHERE {column} = %s", [user_id])
        db.execute("DELETE FROM accounts_user WHERE id = %s", [user_id])


def run(size: int) -> list[Measurement]:
    from dsar.erasure import erasure_erase_subject
    from dsar.registry import Subject

    db = raw()
    made: list[int] = []
    try:
        user_id, email = _prepare(db, size)
        made.append(user_id)
        django = Measurement(NAME, "django", str(size), rows=size)
        with django_queries() as count, measure(django, queries=count):
            counts = erasure_erase_subject(subject=Subject(user_id=user_id, email=email))
        left = db.fetchall(
            "SELECT (SELECT count(*) FROM consent_consentevent WHERE user_id = %(u)s) + "
            "(SELECT count(*) FROM consent_formsubmission WHERE user_id = %(u)s) + "
            "(SELECT count(*) FROM dsar_auditevent WHERE subject_ref = %(r)s "
            "AND reason <> '[erased]')",
            {"u": user_id, "r": f"user:{user_id}"},
        )[0][0]
        if left:
            raise AssertionError(f"erasure left {left} rows of the subject")
        django.notes.append(f"{sum(counts.values())} rows changed")
        if django.queries >= size:
            django.notes.append("one statement per row or worse")

        user_id, email = _prepare(db, size)
        made.append(user_id)
        baseline = Measurement(NAME, "baseline", str(size), rows=size)
        db.reset()
        with measure(baseline, queries=lambda: db.statements):
            baseline_erase(db, user_id=user_id, email=email)
        return [django, baseline]
    finally:
        bench_users_delete(db, where="u.username = %s", params=[f"bench_{SUBJECT_NUMBER:07d}"])
        db.execute_past_triggers(
            "DELETE FROM dsar_auditevent WHERE subject_ref = ANY(%s)", [[f"user:{u}" for u in made]]
        )
        db.close()
