"""Erasure in a connected data store (issue 18.7): one person with N events in a second
PostgreSQL database (`users` + `events` referencing it, other people's rows beside), masked
with null_rewrite as Fides was measured (Fides 2.78.2 on this machine: 32-46 s at 10k, 398 s
at 100k, one UPDATE per row).

The portal's path is the request's part from being made to done: the part row is written for
the erasure request (`parts_create`), claimed and run by the worker's function
(`system_part_run`: plan, anchors, one UPDATE per collection, progress, the request's
completion check). The baseline is the hand-written SQL for the same work: the two UPDATEs.
"""

from __future__ import annotations

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

NAME = "datastore_erasure"
TITLE = "Erasure in a connected data store (users + events, one person)"
TARGET = 2.0
UNIT = "rows"
SIZES = {"smoke": 500, "small": 10_000, "large": 100_000}


def baseline_erase(conn) -> int:
    with conn.transaction():
        changed = conn.execute(
            "UPDATE events SET ip_address = NULL, payload = NULL "
            "WHERE user_id IN (SELECT id FROM users WHERE email = %s)",
            [PERSON],
        ).rowcount
        conn.execute("UPDATE users SET email = NULL, name = NULL WHERE email = %s", [PERSON])
    return changed


def _left(conn) -> int:
    return conn.execute(
        "SELECT count(*) FROM events WHERE user_id = 0 AND payload IS NOT NULL"
    ).fetchone()[0]


def run(size: int) -> list[Measurement]:
    from datastores.services import parts_create, system_part_run
    from dsar.registry import Subject

    try:
        store_prepare(size)
        with system_registered():
            request = subject_request("erasure")
            broker_warm()
            django = Measurement(NAME, "django", str(size), rows=size)
            with (
                store_statements() as sent,
                django_queries() as count,
                measure(django, queries=lambda: count() + sent()),
            ):
                (part,) = parts_create(
                    request=request,
                    kind="erasure",
                    subjects=[Subject(user_id=request.user_id, email=PERSON)],
                )
                assert system_part_run(part_id=part.pk)
            part.refresh_from_db()
            with store() as conn:
                if part.state != "done" or _left(conn):
                    raise AssertionError(f"erasure left rows ({part.state}: {part.last_error})")
                others = conn.execute(
                    "SELECT count(*) FROM events WHERE user_id <> 0 AND payload IS NULL"
                ).fetchone()[0]
                if others:
                    raise AssertionError(f"erasure changed {others} rows of other people")
            django.notes.append(
                f"{sum(part.counts.values())} rows changed, {sent()} statements to the store"
            )
        store_prepare(size)
        baseline = Measurement(NAME, "baseline", str(size), rows=size)
        with store() as conn, measure(baseline, queries=lambda: 2):
            baseline_erase(conn)
        return [django, baseline]
    finally:
        subject_cleanup()
        store_drop()
