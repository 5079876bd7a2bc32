"""Throughput against a physical limit, for the benchmarks that serve HTTP (one-click
unsubscribe, the API's may-I-contact): each path is a gunicorn with 2 sync workers, loaded from a
second process on loopback (wrk, 1 thread, CONNECTIONS connections; a Python load generator when
wrk is missing), in interleaved rounds of a few seconds each. Each request takes the next line of
a file of paths, so each can name a different person.

`interleaved` runs the rounds; `measurements` turns them into the report's two rows (the portal
and the baseline doing the same work) with each path's requests/s and p50/p99 in the notes.
*wall* is the time each path needs for the number of requests the baseline served, so the ratio
is the baseline's throughput over the portal's.
"""

from __future__ import annotations

import http.client
import json
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .core import Measurement, database_url

ROUND_SECONDS = 2
CONNECTIONS = 4


@dataclass(frozen=True)
class Call:
    """What every request of a path sends, besides its path."""

    method: str = "GET"
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)


WRK_SCRIPT = """
local paths, sent = {}, 0
local headers = __HEADERS__
function init(args)
  local skip = tonumber(args[2])
  for line in io.lines(args[1]) do
    if skip > 0 then skip = skip - 1 else paths[#paths + 1] = line end
  end
end
function request()
  sent = sent + 1
  return wrk.format(__METHOD__, paths[(sent - 1) % #paths + 1], headers, __BODY__)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %d, "seconds": %f, "p50_ms": %f, "p99_ms": %f, '
    .. '"errors": %d}\\n', summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def _lua(text: str) -> str:
    """A Lua string literal (the texts are ASCII: JSON's escapes are Lua's)."""
    return json.dumps(text, ensure_ascii=True)


def wrk_script(call: Call) -> str:
    headers = ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in call.headers.items())
    return (
        WRK_SCRIPT.replace("__HEADERS__", "{" + headers + "}")
        .replace("__METHOD__", _lua(call.method))
        .replace("__BODY__", _lua(call.body) if call.body else "nil")
    )


def _wrk(url: str, paths_file: Path, seconds: int, offset: int, call: Call) -> dict:
    """`seconds` of load on the lines of `paths_file` from line `offset` on."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(wrk_script(call))
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


def _python_load(port: int, paths: list[str], seconds: int, call: Call) -> dict:
    """The fallback: CONNECTIONS threads sending with http.client for `seconds`."""
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
                conn.request(call.method, path, call.body or None, call.headers)
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


def generator() -> str:
    return "wrk" if shutil.which("wrk") else "Python load generator (wrk not installed)"


def load(stack, file: Path, lines: list[str], seconds: float, offset: int, call: Call) -> dict:
    """`seconds` of load on `stack`, each request the next of `lines` (kept in `file`)."""
    if shutil.which("wrk"):
        return _wrk(stack.url, file, seconds, offset, call)
    return _python_load(stack.port, lines[offset:], seconds, call)


def rounds_of(size: int) -> list[int]:
    """Each path's `size` seconds of load, in rounds of about ROUND_SECONDS."""
    count = max(1, size // ROUND_SECONDS)
    return [size // count] * count


@dataclass
class Run:
    """What the rounds gave, per path: each round's result, the RSS samplers, and how many
    lines of the path's file were used (served, or possibly in flight when a round ended)."""

    rounds: dict[str, list[dict]]
    samplers: dict[str, list]
    used: dict[str, int]


def interleaved(
    *, stacks: dict, links: dict[str, list[str]], work: Path, size: int, call: Call
) -> Run:
    """`size` seconds of load on each path (`stacks` and `links` by path name), in turn."""
    names = list(links)
    files = {}
    for i, name in enumerate(names):
        files[name] = work / f"paths-{i}.txt"
        files[name].write_text("\n".join(links[name]) + "\n")
    run = Run({n: [] for n in names}, {n: [] for n in names}, dict.fromkeys(names, 0))
    for turn, seconds in enumerate(rounds_of(size)):
        for name in names[turn % len(names) :] + names[: turn % len(names)]:
            sampler = stacks[name].sampler(interval=0.1)
            sampler.start()
            r = load(stacks[name], files[name], links[name], seconds, run.used[name], call)
            sampler.stop()
            run.samplers[name].append(sampler)
            run.rounds[name].append(r)
            # The requests still in flight when wrk stopped may have been served too.
            run.used[name] += r["requests"] + 2 * CONNECTIONS
    for name in names:
        if run.used[name] > len(links[name]):
            raise AssertionError(f"{name}: more requests than paths; give the path more people")
    return run


def totals(run: Run) -> dict[str, dict]:
    """Per path: requests, seconds, the rounds' median p50 and p99, and requests/s. A path
    with an error fails the benchmark."""
    out = {}
    for name, done in run.rounds.items():
        requests = sum(r["requests"] for r in done)
        errors = sum(r["errors"] for r in done)
        if errors or not requests:
            raise AssertionError(f"{name}: {errors} errors in {requests} requests")
        out[name] = {
            "requests": requests,
            "seconds": sum(r["seconds"] for r in done),
            "p50_ms": statistics.median(r["p50_ms"] for r in done),
            "p99_ms": statistics.median(r["p99_ms"] for r in done),
        }
        out[name]["rate"] = requests / out[name]["seconds"]
    return out


def measurements(
    *,
    benchmark: str,
    size: int,
    run: Run,
    total: dict[str, dict],
    statements: dict[str, int],
    portal: str,
    baseline: str,
    what: str,
    extra: dict[str, str] | None = None,
) -> list[Measurement]:
    """The portal's row and the baseline's (the same work), the notes on the first: one line
    per path (requests/s, p50/p99, statements, `extra`, the ratio) and how it was loaded;
    `what` names a request ("POSTs", "GETs")."""
    served = total[baseline]["requests"]
    rows = []
    for name, role in ((portal, "django"), (baseline, "baseline")):
        t = total[name]
        m = Measurement(benchmark, role, str(size), rows=served, seconds=served / t["rate"])
        m.queries = statements[name] * t["requests"]
        series = [s for sampler in run.samplers[name] for s in sampler.series.values()]
        m.peak_rss_mb = max((mb for s in series for _, mb in s.samples), default=0.0)
        m.rss_growth_mb = max(
            (max(mb for _, mb in s.samples) - s.samples[0][1] for s in series if s.samples),
            default=0.0,
        )
        rows.append(m)
    rows[0].notes += _notes(size, total, statements, portal, what, extra or {})
    return rows


def _notes(size, total, statements, portal, what, extra) -> list[str]:
    lines = []
    for name, t in total.items():
        ratio = t["rate"] / total[portal]["rate"]
        lines.append(
            f"{name}: {t['requests']:,} {what} in {t['seconds']:.2f} s ({t['rate']:,.0f}/s), "
            f"p50 {t['p50_ms']:.1f} ms, p99 {t['p99_ms']:.1f} ms, {statements[name]} statements "
            f"each (BEGIN and COMMIT included){extra.get(name, '')}"
            + ("" if name == portal else f"; the portal is {ratio:.2f}× its time")
        )
    rounds = rounds_of(size)
    lines.append(
        f"{len(rounds)} rounds of about {rounds[0]} s per path, in turn; p50/p99 are the "
        f"medians of the rounds'; {CONNECTIONS} connections, {generator()}"
    )
    return lines


def django_statements(path: str, call: Call, *, warm: str = "GET") -> int:
    """Statements (BEGIN and COMMIT included) of one request through Django's test client, in
    this process, after a `warm` request of the same path, as a worker under load has read what
    it keeps per process already (the warm request should write nothing)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    headers = {"HTTP_HOST": "127.0.0.1"} | {
        "HTTP_" + k.upper().replace("-", "_"): v
        for k, v in call.headers.items()
        if k.lower() != "content-type"
    }
    content_type = call.headers.get("Content-Type", "application/octet-stream")
    client = Client()
    client.generic(warm, path, **headers)
    with CaptureQueriesContext(connection) as captured:
        response = client.generic(
            call.method, path, call.body, content_type=content_type, **headers
        )
    if response.status_code != 200:
        raise AssertionError(f"{path} answered {response.status_code} in-process")
    return len(captured.captured_queries)


def wsgi_statements(app, path: str, call: Call, *, answer: bytes) -> int:
    """Statements of one request through a baseline app (which counts them in `statements`),
    called in this process; it must answer 200 with `answer` in its body."""
    status, body = _wsgi_call(app, path, call)
    app.close()
    if status != "200 OK" or answer not in body:
        raise AssertionError(f"the baseline answered {status} {body!r} in-process")
    return app.statements


def _wsgi_call(app, path: str, call: Call) -> tuple[str, bytes]:
    """One request to a WSGI app in this process: its status and body."""
    import io
    from urllib.parse import urlsplit

    parts, answered = urlsplit(path), []
    environ = {
        "REQUEST_METHOD": call.method,
        "PATH_INFO": parts.path,
        "QUERY_STRING": parts.query,
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": str(len(call.body)),
        "wsgi.input": io.BytesIO(call.body.encode()),
    } | {"HTTP_" + k.upper().replace("-", "_"): v for k, v in call.headers.items()}
    body = b"".join(app(environ, lambda status, headers: answered.append(status)))
    return answered[0], body


def environment(extra: dict[str, str]) -> dict[str, str]:
    """The environment of both gunicorns: the load-test settings on the bench database, this
    process's keys and broker, no mail sent, and what the baseline app needs (`extra`)."""
    from django.conf import settings

    from loadtest.stack import stack_env

    return stack_env(
        database_url=database_url(),
        broker_url=settings.CELERY_BROKER_URL,
        secret_key=settings.SECRET_KEY,
        payment_key=",".join(settings.PAYMENT_TOKEN_KEYS),
        extra={"EMAIL_URL": "dummymail://", **extra},
    )


@contextmanager
def portal_and_baseline(env: dict[str, str], work: Path, baseline_app: str):
    """The portal's gunicorn and the baseline app's, each with 2 sync workers, no Celery."""
    from loadtest.stack import Stack, static_collect

    static_collect(env)
    with (
        Stack(env=env, workers=2, celery=False, log_dir=work / "portal") as portal,
        Stack(
            env=env, workers=2, celery=False, log_dir=work / "baseline", app=baseline_app
        ) as baseline,
    ):
        yield portal, baseline


def warm(stack, path: str, work: Path, call: Call) -> None:
    """A second of load on one path, so every worker has its URLconf, templates and
    connection before the measured rounds."""
    file = work / f"warm-{stack.port}.txt"
    file.write_text(path + "\n")
    load(stack, file, [path], 1, 0, call)


def people_split(ids: list[int], names, per_path: int, *, kept: int) -> dict[str, list[int]]:
    """`per_path` people for each path, after the first `kept` (asked in-process)."""
    return {
        name: ids[kept + i * per_path : kept + (i + 1) * per_path] for i, name in enumerate(names)
    }
