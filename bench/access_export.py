"""Access export: the access report (JSON + HTML) of one subject holding N rows.

The rows are the subject's consent ledger, form submissions and audit events
(`subject_rows_add`). The baseline is COPY of the same rows (every column of those tables, CSV)
to a file: what the database can hand out at best. Peak RSS must stay flat as the rows grow.

A second reference is printed in the notes: a minimal renderer with plain psycopg and no Django
(`_psycopg_report`), which reads the same columns and writes the same JSON and HTML rows. It is
the floor of any Python path: reading and converting the rows alone costs about 3-4x of COPY
here, so the issue's 5x of COPY is out of reach without the database rendering the report, which
would be a second, database-specific path (issue 14 forbids it).
"""

from __future__ import annotations

import json
import tempfile
from html import escape

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
TARGET = 5.0  # issue 14: ≤ 5× of COPY at 50k rows
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
        floor = Measurement(NAME, "psycopg", str(size), rows=size)
        db.reset()
        with tempfile.TemporaryFile() as out, measure(floor, queries=lambda: db.statements):
            _psycopg_report(db, user_id=user_id, email=email, ref=ref, out=out)
        django.notes.append(
            f"minimal psycopg renderer {floor.seconds:.3f} s "
            f"({floor.seconds / baseline.seconds:.2f}x of COPY); "
            f"Django path {django.seconds / floor.seconds:.2f}x of it"
        )
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


def _psycopg_report(db, *, user_id: int, email: str, ref: str, out) -> None:
    """The same JSON records and HTML rows as the access report, for the same rows and export
    columns, written with plain psycopg, json and html: no ORM, no registry walk."""
    from dsar import registry

    wheres = {
        "consent.ConsentEvent": (
            "user_id = %s OR (user_id IS NULL AND email = %s)",
            [user_id, email],
        ),
        "consent.FormSubmission": ("user_id = %s OR email = %s", [user_id, email]),
        "dsar.AuditEvent": ("subject_ref = %s", [ref]),
    }
    entries = {e.label: e for e in registry.entries()}
    encode = json.JSONEncoder(ensure_ascii=False).encode
    for label, (where, params) in wheres.items():
        entry = entries[label]
        meta = entry.model._meta
        names = list(entry.export_fields)
        columns = ", ".join([meta.pk.column, *(meta.get_field(n).column for n in names)])
        db.statements += 1
        with db.conn.cursor() as cursor:
            sql = f"SELECT {columns} FROM {meta.db_table} WHERE {where} ORDER BY 1"
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(2000):
                parts = []
                for pk, *values in rows:
                    values = [v.isoformat() if hasattr(v, "isoformat") else v for v in values]
                    fields = dict(zip(names, values, strict=True))
                    parts.append(encode({"model": label, "id": pk, "fields": fields}))
                    cells = "</td><td>".join(
                        escape(v if isinstance(v, str) else encode(v)) for v in values
                    )
                    parts.append(f'<tr><th scope="row">{pk}</th><td>{cells}</td></tr>')
                out.write("\n".join(parts).encode())
