"""The API's may-I-contact for one person against its physical limit: `GET
/api/v1/contact?purpose=newsletter&user_id=<id>` with a client's bearer token, through gunicorn
with 2 sync workers, load from a second process on loopback (bench/load.py: wrk, 1 thread, 4
connections).

The baseline is the same durable work without Django: a minimal WSGI app with plain psycopg
(bench/api_contact_wsgi.py: the same client lookup and secret check, the same limiter call, the
same gate over the same rows, the same audit row) behind a second gunicorn with the same settings,
in the same run, interleaved in rounds of a few seconds. Each GET asks about a different subscriber
(newsletter granted, address verified), so every answer is "yes" after the whole gate, and every
call leaves its audit row (counted afterwards; the audit trail is append-only, so the bench
database keeps them). *wall* is the time each path needs for the number of requests the baseline
served, so the ratio is the baseline's throughput over the portal's; requests/s and p50/p99 latency
are in the notes. Server settings: `workpex_portal.settings.loadtest`; the client's own rate is
raised out of the way (the limiter's Redis call is still made on both sides). Queries: statements
per request (one call measured in-process: Django's test client, or the baseline app called
directly) × requests served.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from . import load
from .core import Measurement, raw, subscribers_ensure, subscribers_forget

NAME = "api_contact_load"
TITLE = "API may-I-contact for one person (gunicorn, 2 workers)"
TARGET = 2.0
UNIT = "requests"
SIZE_UNIT = "s of load"
SIZES = {"smoke": 1, "small": 10, "large": 30}  # seconds of load per path
PEOPLE_PER_SECOND = 2500  # distinct people per path and second of load (more than served)
BASELINE_APP = "bench.api_contact_wsgi:application"
PATHS = ("django", "psycopg")
RATE = 1_000_000  # the client's calls per second: out of the way, but counted
ACTION = "api_contact_checked"


def _link(uid: int) -> str:
    return f"/api/v1/contact?purpose=newsletter&user_id={uid}"


def run(size: int) -> list[Measurement]:
    """`size`: seconds of load on each path, in interleaved rounds."""
    from api.models import ApiClient
    from api.services import api_client_create

    from .api_contact_wsgi import Contact

    db = raw()
    per_path = PEOPLE_PER_SECOND * size
    subscribers = per_path * len(PATHS) + 2
    work = Path(tempfile.mkdtemp(prefix="bench-api-contact-"))
    ApiClient.objects.filter(name=TITLE).delete()
    client, token = api_client_create(name=TITLE, scopes=["consent:read"], rate_limit=f"{RATE}/s")
    call = load.Call("GET", "", {"Authorization": f"Bearer {token}"})
    env = load.environment({"BENCH_API_RATE": f"{RATE}/1"})
    audited = "SELECT count(*) FROM dsar_auditevent WHERE action = %s AND object_id = %s "
    newsletter, ids = subscribers_ensure(db, subscribers)
    try:
        # Two people are kept out of the measured load: one in-process call on each side gives
        # its statement count, then the warm-up asks about them again.
        kept = {"django": _link(ids[0]), "psycopg": _link(ids[1])}
        statements = {
            "django": load.django_statements(kept["django"], call),
            "psycopg": load.wsgi_statements(
                Contact(env), kept["psycopg"], call, answer=b'"contactable": true'
            ),
        }
        people = load.people_split(ids, PATHS, per_path, kept=2)
        links = {name: [_link(uid) for uid in people[name]] for name in PATHS}
        with load.portal_and_baseline(env, work, BASELINE_APP) as (portal, baseline):
            stacks = {"django": portal, "psycopg": baseline}
            for name in PATHS:
                load.warm(stacks[name], kept[name], work, call)
            before = db.fetchall(audited, [ACTION, str(client.pk)])[0][0]
            ran = load.interleaved(stacks=stacks, links=links, work=work, size=size, call=call)
        audits = db.fetchall(audited, [ACTION, str(client.pk)])[0][0] - before
    finally:
        subscribers_forget(db, newsletter, ids[0], ids[-1])
        client.delete()
        db.close()
        shutil.rmtree(work, ignore_errors=True)

    total = load.totals(ran)
    answered = sum(t["requests"] for t in total.values())
    if audits < answered:
        raise AssertionError(f"{audits} audit rows for {answered} calls answered")
    rows = load.measurements(
        benchmark=NAME,
        size=size,
        run=ran,
        total=total,
        statements=statements,
        portal="django",
        baseline="psycopg",
        what="GETs",
    )
    rows[0].notes.append(f"{audits:,} audit rows written by the calls of both paths")
    return rows
