"""Access export: the access report (JSON + HTML) of one subject holding N rows.

The rows are the subject's consent ledger, form submissions and audit events
(`subject_rows_add`). The baseline is COPY of the same rows (every column of those tables, CSV)
to a file: what the database can hand out at best. Peak RSS must stay flat as the rows grow.
"""

from __future__ import annotations

import tempfile

from .core import (
    Measurement,
    bench_users_delete,
    django_queries,
    measure,
    raw,
    subject_rows_add,
    user_ensure_one,
)

NAME = "access_export"
TITLE = "Access export (JSON + HTML, one subject)"
TARGET = 3.0
UNIT = "rows"
SIZES = {"smoke": 500, "small": 5_000, "large": 50_000}
# The heavy subject: a bench user number no other benchmark uses.
SUBJECT_NUMBER = 9_000_001


def run(size: int) -> list[Measurement]:
    from dsar.exports import access_report_write
    from dsar.registry import Subject

    db = raw()
    username = f"bench_{SUBJECT_NUMBER:07d}"
    bench_users_delete(db, where="u.username = %s", params=[username])
    user_id, email = user_ensure_one(db, SUBJECT_NUMBER)
    try:
        made = subject_rows_add(db, user_id=user_id, email=email, rows=size)
        db.execute("ANALYZE")
        subject = Subject(user_id=user_id, email=email)
        django = Measurement(NAME, "django", str(size), rows=size)
        with (
            tempfile.TemporaryFile() as json_file,
            tempfile.TemporaryFile() as html_file,
            django_queries() as count,
            measure(django, queries=count),
        ):
            counts = access_report_write(subject=subject, json_file=json_file, html_file=html_file)
            json_bytes, html_bytes = json_file.tell(), html_file.tell()
        for label, rows in made.items():
            if counts.get(label) != rows:
                raise AssertionError(f"{label}: exported {counts.get(label)}, made {rows}")
        django.notes.append(f"JSON {json_bytes / 2**20:.1f} MB, HTML {html_bytes / 2**20:.1f} MB")
        baseline = Measurement(NAME, "baseline", str(size), rows=size)
        db.reset()
        ref = f"user:{user_id}"
        with tempfile.TemporaryFile() as out, measure(baseline, queries=lambda: db.statements):
            for sql in (
                f"COPY (SELECT * FROM consent_consentevent WHERE user_id = {user_id} "
                f"OR (user_id IS NULL AND email = '{email}') ORDER BY id) TO STDOUT (FORMAT csv)",
                f"COPY (SELECT * FROM consent_formsubmission WHERE user_id = {user_id} "
                f"OR email = '{email}' ORDER BY id) TO STDOUT (FORMAT csv)",
                f"COPY (SELECT * FROM dsar_auditevent WHERE subject_ref = '{ref}' ORDER BY id) "
                "TO STDOUT (FORMAT csv)",
            ):
                db.copy_out(sql, out)
        return [django, baseline]
    finally:
        bench_users_delete(db, where="u.username = %s", params=[username])
        db.close()


def extra_checks(measurements: list[Measurement]) -> list[str]:
    """The memory target: peak RSS grows < 50 MB from the smallest to the largest size."""
    django = [m for m in measurements if m.path == "django"]
    if len(django) < 2:
        return []
    low, high = django[0], django[-1]
    growth = high.peak_rss_mb - low.peak_rss_mb
    met = "met" if growth < 50 else "**missed**"
    return [
        f"Peak RSS from {int(low.size):,} to {int(high.size):,} rows: {low.peak_rss_mb:.0f} MB → "
        f"{high.peak_rss_mb:.0f} MB ({growth:+.1f} MB; target < 50 MB: {met}). Growth within "
        f"each run: {low.rss_growth_mb:+.1f} MB and {high.rss_growth_mb:+.1f} MB."
    ]
