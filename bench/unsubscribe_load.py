"""One-click unsubscribe against its physical limit: RFC 8058 POSTs (`List-Unsubscribe=One-Click`)
to `/unsubscribe/<token>/` through gunicorn with 2 sync workers, load from a second process on
loopback (wrk, 1 thread, 4 connections; a Python load generator when wrk is missing).

The baseline is the same durable work without Django: a minimal WSGI app with plain psycopg
(bench/unsubscribe_wsgi.py: the same token check, the same limiter call, the same checks, the
same ledger row, one commit) behind a second gunicorn with the same settings. Three paths run in
the same run, interleaved in rounds of a few seconds each, in turn: the portal, the baseline
with the limiter's Redis call (*baseline* below: the same work) and the baseline without it (in
the notes). Each POST carries a different subscriber's token, so every request is a real
withdrawal (a ledger row, counted afterwards per path). *wall* is the time each path needs for
the number of requests the baseline served, so the ratio is the baseline's throughput over the
portal's; requests/s is each path's own throughput; p50/p99 latency are in the notes. Server
settings: `workpex_portal.settings.loadtest` (production's over loopback HTTP, rate limits
raised; see docs/benchmarks.md). Peak RSS is that of the gunicorn workers. Queries: statements
per request (one unsubscribe measured in-process: Django's test client, or the baseline app
called directly; BEGIN and COMMIT included) × requests served.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from . import load
from .core import Measurement, raw, subscribers_ensure, subscribers_forget

NAME = "unsubscribe_load"
TITLE = "One-click unsubscribe throughput (gunicorn, 2 workers)"
TARGET = 2.0
UNIT = "requests"
SIZE_UNIT = "s of load"
SIZES = {"smoke": 1, "small": 10, "large": 30}  # seconds of load per path
TOKENS_PER_SECOND = 2500  # distinct subscribers per path and second of load (more than served)
BODY = "List-Unsubscribe=One-Click"
CALL = load.Call("POST", BODY, {"Content-Type": "application/x-www-form-urlencoded"})
BASELINE_APP = "bench.unsubscribe_wsgi:application"
PATHS = ("django", "psycopg + limiter", "psycopg")
PREFIX = {"django": "", "psycopg + limiter": "", "psycopg": "/no-limiter"}


def run(size: int) -> list[Measurement]:
    """`size`: seconds of load on each path, in interleaved rounds."""
    from consent.app_settings import app_settings
    from consent.tokens import unsubscribe_token_make
    from dsar.registry import Subject

    from .unsubscribe_wsgi import Unsubscribe

    db = raw()
    per_path = TOKENS_PER_SECOND * size
    subscribers = per_path * len(PATHS) + 2
    work = Path(tempfile.mkdtemp(prefix="bench-unsubscribe-"))
    env = load.environment(
        {
            # What the baseline app needs to do the portal's checks (bench/unsubscribe_wsgi.py):
            # the keys the portal derives from SECRET_KEY, the link's lifetime, and the limit
            # the load-test settings give unsubscribe (LOADTEST_RATE_LIMIT per second).
            "BENCH_IP_HASH_KEY": app_settings.IP_HASH_KEY.hex(),
            "BENCH_TOKEN_MAX_AGE": str(int(app_settings.UNSUBSCRIBE_TOKEN_MAX_AGE.total_seconds())),
            "BENCH_UNSUBSCRIBE_RATE": f"{os.environ.get('LOADTEST_RATE_LIMIT', '10000')}/1",
        }
    )
    newsletter, ids = subscribers_ensure(db, subscribers)
    try:

        def link(uid: int) -> str:
            token = unsubscribe_token_make(subject=Subject(user_id=uid), purpose="newsletter")
            return f"/unsubscribe/{token}/"

        # Two subscribers are kept out of the measured load: one in-process unsubscribe on
        # each side gives its statement count, then the warm-up posts them again (idempotent).
        kept = {"django": link(ids[0]), "baseline": link(ids[1])}
        statements = {"django": load.django_statements(kept["django"], CALL)}
        statements["psycopg + limiter"] = load.wsgi_statements(
            Unsubscribe(env), kept["baseline"], CALL, answer=b"You are unsubscribed."
        )
        statements["psycopg"] = statements["psycopg + limiter"]
        people = load.people_split(ids, PATHS, per_path, kept=2)
        links = {name: [PREFIX[name] + link(uid) for uid in people[name]] for name in PATHS}
        with load.portal_and_baseline(env, work, BASELINE_APP) as (portal, baseline):
            load.warm(portal, kept["django"], work, CALL)
            load.warm(baseline, kept["baseline"], work, CALL)
            stacks = {"django": portal, "psycopg + limiter": baseline, "psycopg": baseline}
            ran = load.interleaved(stacks=stacks, links=links, work=work, size=size, call=CALL)
        withdrawn = {
            name: db.fetchall(
                "SELECT count(*) FROM consent_consentevent WHERE purpose_id = %s AND "
                "user_id = ANY(%s) AND action = 'withdrawn' AND method = 'unsubscribe_link'",
                [newsletter, people[name]],
            )[0][0]
            for name in PATHS
        }
    finally:
        subscribers_forget(db, newsletter, ids[0], ids[-1])
        db.close()
        shutil.rmtree(work, ignore_errors=True)

    total = load.totals(ran)
    for name in PATHS:
        if withdrawn[name] < total[name]["requests"]:
            raise AssertionError(
                f"{name}: {withdrawn[name]} withdrawals in the ledger for "
                f"{total[name]['requests']} answered"
            )
    rows = load.measurements(
        benchmark=NAME,
        size=size,
        run=ran,
        total=total,
        statements=statements,
        portal="django",
        baseline="psycopg + limiter",
        what="POSTs",
        extra={n: f", {withdrawn[n]:,} withdrawals in the ledger" for n in PATHS},
    )
    return rows
