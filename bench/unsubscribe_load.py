"""One-click unsubscribe throughput: RFC 8058 POSTs (`List-Unsubscribe=One-Click`) to
`/unsubscribe/<token>/` through gunicorn with 2 sync workers for N seconds, load from a second
process on loopback (wrk, 1 thread, 4 connections; a Python load generator when wrk is missing).

Each POST carries a different subscriber's token, so every request is a real withdrawal (a
ledger row, counted afterwards). The baseline is not SQL here: it is N seconds of POSTs to a
trivial Django view (`loadtest.urls`, only in `workpex_portal.settings.loadtest`) through the
same server, middleware and load generator, in the same run. *wall* is the time each path
needs for the number of requests the trivial view served in N seconds (so the trivial view's
wall is N s), which makes the ratio the trivial view's throughput over unsubscribe's: the
target ≤ 2× is the issue's "≥ 50 % of a trivial view's throughput". Requests/s is each path's
own throughput; p50/p99 latency are in the notes. Server settings:
`workpex_portal.settings.loadtest` (production's over loopback HTTP, rate limits raised; see
docs/benchmarks.md). Peak RSS is that of the gunicorn workers. Queries: per request (one
unsubscribe measured in-process with Django's test client) × requests served.
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from .core import Measurement, database_url, django_queries, purpose_id, raw, user_ids, users_ensure

NAME = "unsubscribe_load"
TITLE = "One-click unsubscribe throughput (gunicorn, 2 workers)"
TARGET = 2.0
UNIT = "requests"
SIZE_UNIT = "s of load"
SIZES = {"smoke": 3, "small": 10, "large": 30}  # seconds of load per path
CONNECTIONS = 4
TOKENS_PER_SECOND = 400  # distinct subscribers per second of load (more than it serves here)
TRIVIAL = "/_bench/trivial/"
BODY = "List-Unsubscribe=One-Click"

WRK_SCRIPT = """
local paths, sent = {}, 0
function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
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


def _wrk(url: str, paths_file: Path, seconds: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    done = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "30s", "-s"]
        + [script.name, url, "--", str(paths_file)],
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


def _queries_per_request(path: str, *, urlconf: str) -> int:
    from django.test import Client
    from django.test.utils import override_settings

    with override_settings(ROOT_URLCONF=urlconf), django_queries() as count:
        response = Client().post(
            path, BODY, content_type="application/x-www-form-urlencoded", HTTP_HOST="127.0.0.1"
        )
    if response.status_code != 200:
        raise AssertionError(f"{path} answered {response.status_code} in-process")
    return count()


def run(size: int) -> list[Measurement]:
    """`size`: seconds of load on each path."""
    from django.conf import settings

    from consent.tokens import unsubscribe_token_make
    from dsar.registry import Subject
    from loadtest.stack import Stack, stack_env, static_collect

    db = raw()
    subscribers = TOKENS_PER_SECOND * size
    users_ensure(db, subscribers + 1)
    lo, hi = user_ids(db, subscribers + 1)
    newsletter = purpose_id(db, "newsletter")

    def subscribe_all() -> None:
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

    work = Path(tempfile.mkdtemp(prefix="bench-unsubscribe-"))
    env = stack_env(
        database_url=database_url(),
        broker_url=settings.CELERY_BROKER_URL,
        secret_key=settings.SECRET_KEY,
        payment_key=",".join(settings.PAYMENT_TOKEN_KEYS),
        extra={"EMAIL_URL": "dummymail://"},
    )
    try:
        subscribe_all()
        token = unsubscribe_token_make
        ids = [  # bench users' ids have gaps (ON CONFLICT DO NOTHING uses up ids)
            row[0]
            for row in db.fetchall(
                "SELECT id FROM accounts_user WHERE id BETWEEN %s AND %s "
                "AND username LIKE 'bench\\_%%' ORDER BY id",
                [lo + 1, hi],
            )
        ]
        paths = [
            f"/unsubscribe/{token(subject=Subject(user_id=uid), purpose='newsletter')}/"
            for uid in ids
        ]
        # Subscriber `lo` is kept out of the measured load: one in-process unsubscribe gives
        # the query count, then the warm-up posts it again (idempotent: nothing more written).
        kept = f"/unsubscribe/{token(subject=Subject(user_id=lo), purpose='newsletter')}/"
        per_unsubscribe = _queries_per_request(kept, urlconf="workpex_portal.urls")
        per_trivial = _queries_per_request(TRIVIAL, urlconf="loadtest.urls")
        (work / "warm.txt").write_text(kept + "\n")
        (work / "unsubscribe.txt").write_text("\n".join(paths) + "\n")
        (work / "trivial.txt").write_text(TRIVIAL + "\n")
        static_collect(env)
        wrk = shutil.which("wrk") is not None
        with Stack(env=env, workers=2, celery=False, log_dir=work) as stack:
            load = (
                (lambda name, lines, n: _wrk(stack.url, work / f"{name}.txt", n))
                if wrk
                else (lambda name, lines, n: _python_load(stack.port, lines, n))
            )
            # Warm both workers (URLconf, templates, database connections) on both paths.
            load("trivial", [TRIVIAL], 1)
            load("warm", [kept], 1)
            results = {}
            for name, lines in (("trivial", [TRIVIAL]), ("unsubscribe", paths)):
                sampler = stack.sampler(interval=0.1)
                sampler.start()
                results[name] = load(name, lines, size)
                sampler.stop()
                results[name]["rss"] = sampler.series
        withdrawn = db.fetchall(
            "SELECT count(*) FROM consent_consentevent WHERE purpose_id = %s AND user_id "
            "BETWEEN %s AND %s AND action = 'withdrawn' AND method = 'unsubscribe_link'",
            [newsletter, lo, hi],
        )[0][0]
    finally:
        db.execute(
            "DELETE FROM consent_consentevent WHERE purpose_id = %s AND user_id BETWEEN %s AND %s",
            [newsletter, lo, hi],
        )
        db.close()
        shutil.rmtree(work, ignore_errors=True)

    generator = "wrk" if wrk else "Python load generator (wrk not installed)"
    for name, r in results.items():
        if r["errors"] or not r["requests"]:
            raise AssertionError(f"{name}: {r['errors']} errors in {r['requests']} requests")
    if withdrawn < min(subscribers, results["unsubscribe"]["requests"]):
        raise AssertionError(
            f"{withdrawn} withdrawals in the ledger for "
            f"{results['unsubscribe']['requests']} accepted unsubscribes"
        )
    # Both paths are measured as the time they need for the requests the trivial view served
    # in `size` seconds (for the trivial view: its wall time), so the ratio is the trivial
    # view's throughput over unsubscribe's, and requests/s is each path's own throughput.
    served = results["trivial"]["requests"]
    measurements = []
    for name, path, per_request in (
        ("unsubscribe", "django", per_unsubscribe),
        ("trivial", "baseline", per_trivial),
    ):
        r = results[name]
        rate = r["requests"] / r["seconds"]
        m = Measurement(NAME, path, str(size), rows=served, seconds=served / rate)
        m.queries = per_request * r["requests"]
        series = list(r["rss"].values())
        m.peak_rss_mb = max((mb for s in series for _, mb in s.samples), default=0.0)
        m.rss_growth_mb = max(
            (max(mb for _, mb in s.samples) - s.samples[0][1] for s in series if s.samples),
            default=0.0,
        )
        m.notes.append(
            f"{r['requests']:,} {name} POSTs in {r['seconds']:.2f} s ({rate:,.0f}/s), "
            f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms; {per_request} queries each; "
            f"{CONNECTIONS} connections, {generator}"
        )
        measurements.append(m)
    measurements[0].notes.append(f"{withdrawn:,} withdrawals in the ledger afterwards")
    return measurements
