"""Access in a connected data store (issue 18.7): the report of one person with N events in a
second PostgreSQL database (`users` + `events` referencing it, other people's rows beside), as
Fides was measured (Fides 2.78.2 on this machine: 1.2-3.1 s at 10k, 11 s at 100k).

The portal's path is the request's access report from the system's part to the built report:
the part row made for the request (`parts_create`), claimed and run by the worker's function
(`system_part_run`: the collections planned from the person's email, their rows streamed into
the part's data file), then the package built (`export_build`: the registry's part of the
report, the system's rows read back from the part's file into the JSON and HTML, the files
stored). The baseline is the
hand-written SQL for the system's part of the same work: one SELECT of the person's events
through their user row, streamed by a server-side cursor and written as the same JSON and HTML
rows with the json module and html.escape.
"""

from __future__ import annotations

import json
import tempfile
from html import escape

from .core import Measurement, django_queries, measure
from .datastore_common import (
    PERSON,
    broker_warm,
    store,
    store_drop,
    store_prepare,
    store_statements,
    subject_cleanup,
    subject_request,
    system_registered,
)

NAME = "datastore_access"
TITLE = "Access report from a connected data store (users + events, one person)"
TARGET = 2.0
UNIT = "rows"
SIZES = {"smoke": 500, "small": 10_000, "large": 100_000}


def baseline_report(conn, json_out, html_out) -> int:
    rows = 0
    for table, columns, condition in (
        ("users", "id, email, name", "email = %s"),
        (
            "events",
            "id, user_id, ip_address, payload",
            "user_id IN (SELECT id FROM users WHERE email = %s)",
        ),
    ):
        names = [c.strip() for c in columns.split(",")]
        with conn.cursor(name=f"bench_{table}") as cursor:
            cursor.itersize = 2000
            cursor.execute(f"SELECT {columns} FROM {table} WHERE {condition} ORDER BY id", [PERSON])
            for row in cursor:
                record = dict(zip(names, row, strict=True))
                json_out.write(json.dumps(record, ensure_ascii=False) + ",")
                html_out.write(
                    "<tr><td>" + "</td><td>".join(escape(str(v)) for v in row) + "</td></tr>\n"
                )
                rows += 1
    return rows


def run(size: int) -> list[Measurement]:
    from datastores.services import parts_create, system_part_run
    from dsar.models import ExportFile
    from dsar.registry import Subject
    from dsar.services import export_build

    try:
        store_prepare(size)
        with system_registered():
            request = subject_request("access")
            export = ExportFile.objects.create(request=request, kind=ExportFile.Kind.ACCESS)
            broker_warm()
            django = Measurement(NAME, "django", str(size), rows=size)
            with (
                store_statements() as sent,
                django_queries() as count,
                measure(django, queries=lambda: count() + sent()),
            ):
                (part,) = parts_create(
                    request=request,
                    kind="access",
                    subjects=[Subject(user_id=request.user_id, email=PERSON)],
                )
                assert system_part_run(part_id=part.pk)
                assert export_build(export_id=export.pk)
            export.refresh_from_db()
            part.refresh_from_db()
            part.data_file.delete(save=False)
            held = export.counts.get("Bench store / events")
            if held != size:
                raise AssertionError(f"the report holds {held} events, not {size}")
            django.notes.append(f"{sum(export.counts.values())} records in the report")
            export.file.delete(save=False)
            export.data_file.delete(save=False)
        baseline = Measurement(NAME, "baseline", str(size), rows=size)
        with (
            store() as conn,
            tempfile.TemporaryFile("w+") as json_out,
            tempfile.TemporaryFile("w+") as html_out,
            measure(baseline, queries=lambda: 2),
            conn.transaction(),
        ):
            written = baseline_report(conn, json_out, html_out)
        if written != size + 1:
            raise AssertionError(f"the baseline wrote {written} rows")
        return [django, baseline]
    finally:
        subject_cleanup()
        store_drop()
