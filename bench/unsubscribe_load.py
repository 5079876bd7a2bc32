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

import http.client
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from .core import Measurement, database_url, purpose_id, raw, user_ids, users_ensure

NAME = "unsubscribe_load"
TITLE = "One-click unsubscribe throughput (gunicorn, 2 workers)"
TARGET = 2.0
UNIT = "requests"
SIZE_UNIT = "s of load"
SIZES = {"smoke": 1, "small": 10, "large": 30}  # seconds of load per path
ROUND_SECONDS = 2
CONNECTIONS = 4
TOKENS_PER_SECOND = 2500  # distinct subscribers per path and second of load (more than served)
BODY = "List-Unsubscribe=One-Click"
BASELINE_APP = "bench.unsubscribe_wsgi:application"
PATHS = ("django", "psycopg + limiter", "psycopg")
PREFIX = {"django": "", "psycopg + limiter": "", "psycopg": "/no-limiter"}

WRK_SCRIPT = """
local paths, sent = {}, 0
function init(args)
  local skip = tonumber(args[2])
  for line in io.lines(args[1]) do
    if skip > 0 then skip = skip - 1 else paths[#paths + 1] = line end
  end
end
function request()
  sent = sent + 1
  return wrk.format("POST", paths[(sent - 1) % #paths + 1],
    {["Content-Type"] = "application/x-www-form-urlencoded"}, "__BODY__")
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %d, "seconds": %f, "p50_ms": %f, "p99_ms": %f, '
    .. '"errors": %d}\\n', summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    e.connect + e.read + e.write + e.status + e.timeout))
end
""".replace("__BODY__", BODY)


def _wrk(url: str, paths_file: Path, seconds: int, offset: int) -> dict:
    """`seconds` of load on the lines of `paths_file` from line `offset` on."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    done = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "30s", "-s"]
        + [script.name, url, "--", str(paths_file), str(offset)],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    )
    Path(script.name).unlink()
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def _python_load(port: int, paths: list[str], seconds: int) -> dict:
    """The fallback: CONNECTIONS threads posting with http.client for `seconds`."""
    lock, latencies, errors, turn = threading.Lock(), [], [0], [0]
    deadline = time.monotonic() + seconds

    def worker():
        while time.monotonic() < deadline:
            with lock:
                path = paths[turn[0] % len(paths)]
                turn[0] += 1
            began = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request(
                    "POST", path, BODY, {"Content-Type": "application/x-www-form-urlencoded"}
                )
                status = conn.getresponse().status
                conn.close()
            except OSError:
                status = 0
            with lock:
                latencies.append((time.perf_counter() - began) * 1000)
                errors[0] += not 200 <= status < 400

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return {
        "requests": len(latencies),
        "seconds": time.perf_counter() - started,
        "p50_ms": latencies[len(latencies) // 2] if latencies else 0.0,
        "p99_ms": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        if latencies
        else 0.0,
        "errors": errors[0],
    }


def _queries_per_request(path: str) -> int:
    """Statements (BEGIN and COMMIT included) of one unsubscribe through Django's test client,
    in this process, after a GET of the link (which writes nothing), as a worker under load has
    read what it keeps per process already."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    Client().get(path, HTTP_HOST="127.0.0.1")
    with CaptureQueriesContext(connection) as captured:
        response = Client().post(
            path, BODY, content_type="application/x-www-form-urlencoded", HTTP_HOST="127.0.0.1"
        )
    if response.status_code != 200:
        raise AssertionError(f"{path} answered {response.status_code} in-process")
    return len(captured.captured_queries)


def _baseline_statements(env: dict[str, str], path: str) -> int:
    """Statements of one unsubscribe through the baseline app, called in this process."""
    import io

    from .unsubscribe_wsgi import Unsubscribe

    app, answered = Unsubscribe(env), []
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": str(len(BODY)),
        "wsgi.input": io.BytesIO(BODY.encode()),
    }
    body = b"".join(app(environ, lambda status, headers: answered.append(status)))
    app.close()
    if answered != ["200 OK"] or body != b"You are unsubscribed.":
        raise AssertionError(f"the baseline answered {answered} {body!r} in-process")
    return app.statements


def _rounds(size: int) -> list[int]:
    """Each path's `size` seconds of load, in rounds of about ROUND_SECONDS."""
    count = max(1, size // ROUND_SECONDS)
    return [size // count] * count


def _subscribe_all(db, *, newsletter: int, lo: int, hi: int) -> None:
    """Bench users lo..hi: the newsletter granted a day ago, and nothing else of it."""
    db.execute(
        "DELETE FROM consent_consentevent WHERE purpose_id = %s AND user_id BETWEEN %s AND %s",
        [newsletter, lo, hi],
    )
    db.execute(
        "INSERT INTO consent_consentevent (email, action, method, at, ip_hash, reason, "
        "user_id, policy_version_id, purpose_id) "
        "SELECT '', 'granted', 'signup', now() - interval '1 day', 'x', '', u.id, "
        "(SELECT id FROM consent_policyversion WHERE published_at IS NOT NULL "
        "AND effective_at <= now() ORDER BY effective_at DESC, id DESC LIMIT 1), %s "
        "FROM accounts_user u WHERE u.id BETWEEN %s AND %s",
        [newsletter, lo, hi],
    )


def run(size: int) -> list[Measurement]:
    """`size`: seconds of load on each path, in interleaved rounds."""
    from django.conf import settings

    from consent.app_settings import app_settings
    from consent.tokens import unsubscribe_token_make
    from dsar.registry import Subject
    from loadtest.stack import Stack, stack_env, static_collect

    db = raw()
    per_path = TOKENS_PER_SECOND * size
    subscribers = per_path * len(PATHS) + 2
    users_ensure(db, subscribers)
    lo, hi = user_ids(db, subscribers)
    newsletter = purpose_id(db, "newsletter")
    work = Path(tempfile.mkdtemp(prefix="bench-unsubscribe-"))
    env = stack_env(
        database_url=database_url(),
        broker_url=settings.CELERY_BROKER_URL,
        secret_key=settings.SECRET_KEY,
        payment_key=",".join(settings.PAYMENT_TOKEN_KEYS),
        extra={
            "EMAIL_URL": "dummymail://",
            # What the baseline app needs to do the portal's checks (bench/unsubscribe_wsgi.py):
            # the keys the portal derives from SECRET_KEY, the link's lifetime, and the limit
            # the load-test settings give unsubscribe (LOADTEST_RATE_LIMIT per second).
            "BENCH_IP_HASH_KEY": app_settings.IP_HASH_KEY.hex(),
            "BENCH_TOKEN_MAX_AGE": str(int(app_settings.UNSUBSCRIBE_TOKEN_MAX_AGE.total_seconds())),
            "BENCH_UNSUBSCRIBE_RATE": f"{os.environ.get('LOADTEST_RATE_LIMIT', '10000')}/1",
        },
    )
    try:
        _subscribe_all(db, newsletter=newsletter, lo=lo, hi=hi)
        ids = [  # bench users' ids have gaps (ON CONFLICT DO NOTHING uses up ids)
            row[0]
            for row in db.fetchall(
                "SELECT id FROM accounts_user WHERE id BETWEEN %s AND %s "
                "AND username LIKE 'bench\\_%%' ORDER BY id",
                [lo, hi],
            )
        ]

        def link(uid: int) -> str:
            token = unsubscribe_token_make(subject=Subject(user_id=uid), purpose="newsletter")
            return f"/unsubscribe/{token}/"

        # Two subscribers are kept out of the measured load: one in-process unsubscribe on
        # each side gives its statement count, then the warm-up posts them again (idempotent).
        kept = {"django": link(ids[0]), "baseline": link(ids[1])}
        statements = {"django": _queries_per_request(kept["django"])}
        statements["psycopg + limiter"] = _baseline_statements(env, kept["baseline"])
        statements["psycopg"] = statements["psycopg + limiter"]
        people, links = {}, {}
        for i, name in enumerate(PATHS):
            people[name] = ids[2 + i * per_path : 2 + (i + 1) * per_path]
            links[name] = [PREFIX[name] + link(uid) for uid in people[name]]
            (work / f"{i}.txt").write_text("\n".join(links[name]) + "\n")
        (work / "warm-django.txt").write_text(kept["django"] + "\n")
        (work / "warm-baseline.txt").write_text(kept["baseline"] + "\n")
        static_collect(env)
        wrk = shutil.which("wrk") is not None
        with (
            Stack(env=env, workers=2, celery=False, log_dir=work / "portal") as portal,
            Stack(
                env=env, workers=2, celery=False, log_dir=work / "baseline", app=BASELINE_APP
            ) as baseline,
        ):
            stacks = {"django": portal, "psycopg + limiter": baseline, "psycopg": baseline}

            def load(stack, file: Path, lines: list[str], seconds: float, offset: int) -> dict:
                if wrk:
                    return _wrk(stack.url, file, seconds, offset)
                return _python_load(stack.port, lines[offset:], seconds)

            # Warm every worker (URLconf, templates, connections) on both servers.
            load(portal, work / "warm-django.txt", [kept["django"]], 1, 0)
            load(baseline, work / "warm-baseline.txt", [kept["baseline"]], 1, 0)
            rounds = {name: [] for name in PATHS}
            offsets = dict.fromkeys(PATHS, 0)
            samplers = {}
            for turn, seconds in enumerate(_rounds(size)):
                order = PATHS[turn % len(PATHS) :] + PATHS[: turn % len(PATHS)]
                for name in order:
                    sampler = stacks[name].sampler(interval=0.1)
                    sampler.start()
                    file = work / f"{PATHS.index(name)}.txt"
                    r = load(stacks[name], file, links[name], seconds, offsets[name])
                    sampler.stop()
                    samplers.setdefault(name, []).append(sampler)
                    rounds[name].append(r)
                    # The requests still in flight when wrk stopped may have been served too.
                    offsets[name] += r["requests"] + 2 * CONNECTIONS
        withdrawn = {
            name: db.fetchall(
                "SELECT count(*) FROM consent_consentevent WHERE purpose_id = %s AND "
                "user_id = ANY(%s) AND action = 'withdrawn' AND method = 'unsubscribe_link'",
                [newsletter, people[name]],
            )[0][0]
            for name in PATHS
        }
    finally:
        db.execute(
            "DELETE FROM consent_consentevent WHERE purpose_id = %s AND user_id BETWEEN %s AND %s",
            [newsletter, lo, hi],
        )
        db.close()
        shutil.rmtree(work, ignore_errors=True)

    generator = "wrk" if wrk else "Python load generator (wrk not installed)"
    totals = {}
    for name in PATHS:
        done = rounds[name]
        requests = sum(r["requests"] for r in done)
        errors = sum(r["errors"] for r in done)
        if errors or not requests:
            raise AssertionError(f"{name}: {errors} errors in {requests} requests")
        if offsets[name] > per_path:
            raise AssertionError(f"{name}: more requests than links; raise TOKENS_PER_SECOND")
        if withdrawn[name] < requests:
            raise AssertionError(
                f"{name}: {withdrawn[name]} withdrawals in the ledger for {requests} answered"
            )
        totals[name] = {
            "requests": requests,
            "seconds": sum(r["seconds"] for r in done),
            "p50_ms": statistics.median(r["p50_ms"] for r in done),
            "p99_ms": statistics.median(r["p99_ms"] for r in done),
        }
        totals[name]["rate"] = requests / totals[name]["seconds"]
    # Each path is measured as the time it needs for the requests the baseline (with the
    # limiter, the same work) served, so the ratio is the baseline's throughput over the
    # portal's, and requests/s is each path's own throughput.
    served = totals["psycopg + limiter"]["requests"]
    measurements = []
    for name, role in (("django", "django"), ("psycopg + limiter", "baseline")):
        t = totals[name]
        m = Measurement(NAME, role, str(size), rows=served, seconds=served / t["rate"])
        m.queries = statements[name] * t["requests"]
        series = [s for sampler in samplers[name] for s in sampler.series.values()]
        m.peak_rss_mb = max((mb for s in series for _, mb in s.samples), default=0.0)
        m.rss_growth_mb = max(
            (max(mb for _, mb in s.samples) - s.samples[0][1] for s in series if s.samples),
            default=0.0,
        )
        measurements.append(m)
    notes = measurements[0].notes
    for name in PATHS:
        t = totals[name]
        ratio = t["rate"] / totals["django"]["rate"]
        notes.append(
            f"{name}: {t['requests']:,} POSTs in {t['seconds']:.2f} s ({t['rate']:,.0f}/s), "
            f"p50 {t['p50_ms']:.1f} ms, p99 {t['p99_ms']:.1f} ms, {statements[name]} statements "
            f"each (BEGIN and COMMIT included), {withdrawn[name]:,} withdrawals in the ledger"
            + ("" if name == "django" else f"; the portal is {ratio:.2f}× its time")
        )
    notes.append(
        f"{len(_rounds(size))} rounds of {_rounds(size)[0]:.1f} s per path, in turn; "
        f"p50/p99 are the medians of the rounds'; {CONNECTIONS} connections, {generator}"
    )
    return measurements
