"""`make loadtest` / `make loadtest-short`: a bounded-time load test of the production shape.

    python -m loadtest.run --duration 25 --users 6     # short form (tests/test_loadtest.py)
    python -m loadtest.run --duration 600 --users 20   # by hand

gunicorn (2 workers), a Celery worker and beat run with `workpex_portal.settings.loadtest`
(production's, over loopback HTTP, rate limits raised) on LOADTEST_DATABASE_URL (default:
`workpex_load` on DATABASE_URL's server or on 127.0.0.1:5432; created, migrated and seeded
when needed) and Redis (LOADTEST_BROKER_URL, default: database 10 on CELERY_BROKER_URL's server
or on 127.0.0.1:6379; also the cache that holds the rate limits). Locust, in its own process,
signs up, signs in, files privacy requests, watches the dashboard and posts one-click
unsubscribes for `--duration` seconds. Pass: no 5xx and no failed connection, no unexpected
answer, every accepted write in the database (each signup, each unsubscribe exactly once, each
filed request), the RSS of every gunicorn and Celery worker process stable (median of the last
fifth within `--rss-growth-mb` of the median just after warm-up), no gunicorn worker replaced,
and /healthz 200 at the end. Exit status 0 only when all pass; the report goes to `--out`.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .stack import ROOT, Stack, memory_verdicts, stack_env, static_collect_if_stale

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/workpex_load"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/10"
PASSWORD = "workpex-demo-2026"  # the demo password seed_demo gives every synthetic user


def database_url() -> str:
    """LOADTEST_DATABASE_URL, else the database `workpex_load` on DATABASE_URL's server (what
    scripts/with_services.py provides), else the default."""
    if os.environ.get("LOADTEST_DATABASE_URL"):
        return os.environ["LOADTEST_DATABASE_URL"]
    server = os.environ.get("DATABASE_URL", "")
    if server.startswith("postgres"):
        return urlsplit(server)._replace(path="/workpex_load").geturl()
    return DEFAULT_DATABASE_URL


def broker_url() -> str:
    """LOADTEST_BROKER_URL, else Redis database 10 on CELERY_BROKER_URL's server, else the
    default: not the test suite's broker database."""
    if os.environ.get("LOADTEST_BROKER_URL"):
        return os.environ["LOADTEST_BROKER_URL"]
    server = os.environ.get("CELERY_BROKER_URL", "")
    if server.startswith("redis://"):
        return urlsplit(server)._replace(path="/10").geturl()
    return DEFAULT_BROKER_URL


def database_ensure(url: str) -> None:
    """Create the database when it does not exist (connecting to `postgres`)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def prepare(*, login_users: int, tokens: int, run: str, tokens_file: Path) -> None:
    """Migrate, seed, collect static files, and give `tokens` seeded users (after the ones who
    sign in) a newsletter subscription and an unsubscribe link, written to `tokens_file`."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from accounts.models import User
    from consent.models import ConsentEvent
    from consent.services import consent_record
    from consent.tokens import unsubscribe_token_make
    from dsar.registry import Subject

    call_command("migrate", interactive=False, verbosity=0)
    call_command("seed_demo", users=login_users + tokens, no_progress=True, verbosity=0)
    static_collect_if_stale()
    names = [f"user{n:07d}" for n in range(login_users + 1, login_users + tokens + 1)]
    ids = list(User.objects.filter(username__in=names).values_list("pk", flat=True))
    with transaction.atomic():
        for user_id in ids:
            consent_record(
                subject=Subject(user_id=user_id),
                purpose="newsletter",
                action=ConsentEvent.Action.GRANTED,
                method=ConsentEvent.Method.PREFERENCE_CENTRE,
            )
    with tokens_file.open("w") as out:
        for user_id in ids:
            token = unsubscribe_token_make(
                subject=Subject(user_id=user_id), purpose="newsletter", campaign=f"loadtest-{run}"
            )
            out.write(f"{user_id} {token}\n")


@dataclass
class Writes:
    """What the load generator saw accepted, and what of it the database holds."""

    flow: str
    accepted: int
    found: int
    problems: list[str] = field(default_factory=list)


def writes_check(accepted: dict, *, since) -> list[Writes]:
    from django.db.models import Count

    from accounts.models import User
    from consent.models import ConsentEvent
    from dsar.models import DataSubjectRequest, RequestEvent

    checks = []
    signups = set(accepted["signup"])
    found = set(User.objects.filter(username__in=signups).values_list("username", flat=True))
    checks.append(
        Writes("signup", len(signups), len(found), [f"no user {u}" for u in signups - found])
    )

    users = set(accepted["unsubscribe"])
    per_user = dict(
        ConsentEvent.objects.filter(
            user_id__in=users,
            purpose__code="newsletter",
            action=ConsentEvent.Action.WITHDRAWN,
            method=ConsentEvent.Method.UNSUBSCRIBE_LINK,
            at__gte=since,
        )
        .values_list("user_id")
        .annotate(n=Count("id"))
    )
    problems = [
        f"user {u}: {per_user.get(u, 0)} withdrawals for 1 accepted link"
        for u in sorted(users)
        if per_user.get(u, 0) != 1
    ]
    checks.append(
        Writes("unsubscribe", len(users), sum(1 for u in users if per_user.get(u) == 1), problems)
    )

    markers = set(accepted["request"])
    found = set(
        DataSubjectRequest.objects.filter(details__in=markers).values_list("details", flat=True)
    )
    found |= set(
        RequestEvent.objects.filter(kind=RequestEvent.Kind.JOINED, text__in=markers).values_list(
            "text", flat=True
        )
    )
    checks.append(
        Writes("privacy request", len(markers), len(found), [f"no {m!r}" for m in markers - found])
    )
    return checks


def verdict(
    *,
    statuses: dict[str, dict[str, int]],
    unexpected: list[dict],
    writes: list[Writes],
    memory,
    rss_growth_mb: float,
    workers_before: list[int],
    workers_after: list[int],
    health: int,
) -> list[str]:
    """Every failed pass criterion, in words (empty: the run passed)."""
    failures = []
    for name, codes in statuses.items():
        for code, n in codes.items():
            if code == "0" or int(code) >= 500:
                what = "failed connections" if code == "0" else f"{code} answers"
                failures.append(f"{name}: {n} {what}")
    if unexpected:
        failures.append(
            f"{len(unexpected)}+ unexpected answers, e.g. "
            + "; ".join(
                f"{u['name']} {u['status']} {u['location']}".strip() for u in unexpected[:3]
            )
        )
    for w in writes:
        if w.accepted == 0:
            failures.append(f"{w.flow}: nothing was accepted, so nothing was tested")
        if w.problems:
            failures.append(
                f"{w.flow}: {len(w.problems)} accepted writes not (exactly once) in the database, "
                f"e.g. {'; '.join(w.problems[:3])}"
            )
    if not memory:
        failures.append("memory: no process had samples in both windows")
    for m in memory:
        if m.growth_mb > rss_growth_mb:
            failures.append(
                f"memory: {m.role} {m.pid} grew {m.growth_mb:.1f} MB "
                f"({m.first_mb:.1f} → {m.last_mb:.1f} MB; bound {rss_growth_mb:g} MB)"
            )
    if sorted(workers_before) != sorted(workers_after):
        failures.append(f"gunicorn workers replaced: {workers_before} → {workers_after}")
    if health != 200:
        failures.append(f"/healthz answered {health} after the run")
    return failures


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(*, args, summary, writes, memory, failures, seconds: float) -> str:
    lines = [
        "# Load test",
        "",
        f"{args.users} Locust users for {args.duration} s (measured {seconds:.1f} s) against "
        "gunicorn (2 workers), a Celery worker and beat, `workpex_portal.settings.loadtest`.",
        "",
        "| request | answers | p50 | p95 | max |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for name in sorted(summary["statuses"]):
        codes = ", ".join(f"{c}: {n}" for c, n in sorted(summary["statuses"][name].items()))
        t = summary["times"].get(name, [])
        lines.append(
            f"| {name} | {codes} | {_percentile(t, 0.5):.0f} ms | {_percentile(t, 0.95):.0f} ms "
            f"| {max(t, default=0):.0f} ms |"
        )
    lines += ["", "| write | accepted | in the database |", "| --- | ---: | ---: |"]
    lines += [f"| {w.flow} | {w.accepted} | {w.found} |" for w in writes]
    lines += [
        "",
        "| process | RSS after warm-up | RSS at the end | growth |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {m.role} {m.pid} | {m.first_mb:.1f} MB | {m.last_mb:.1f} MB | {m.growth_mb:+.1f} MB |"
        for m in memory
    ]
    lines.append("")
    lines += [f"- FAIL: {f}" for f in failures] or ["PASS: no 5xx, no lost write, memory stable."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=30, help="seconds of load")
    parser.add_argument("--users", type=int, default=8, help="concurrent Locust users")
    parser.add_argument("--spawn-rate", type=float, default=4.0)
    parser.add_argument("--login-users", type=int, default=20)
    parser.add_argument("--tokens", type=int, default=None, help="unsubscribe links (default 10/s)")
    parser.add_argument("--rss-growth-mb", type=float, default=25.0)
    parser.add_argument("--out", default=str(ROOT / "var" / "loadtest" / "report.md"))
    args = parser.parse_args(argv)
    tokens = args.tokens or max(100, 10 * args.duration)

    work = ROOT / "var" / "loadtest"
    work.mkdir(parents=True, exist_ok=True)
    run = f"{int(time.time())}{secrets.token_hex(2)}"
    url = database_url()
    database_ensure(url)
    from cryptography.fernet import Fernet

    env = stack_env(
        database_url=url,
        broker_url=broker_url(),
        secret_key=base64.b64encode(secrets.token_bytes(40)).decode(),
        payment_key=Fernet.generate_key().decode(),
        extra={"EMAIL_URL": "dummymail://"},
    )
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    began = time.perf_counter()
    tokens_file = work / "tokens.txt"
    prepare(login_users=args.login_users, tokens=tokens, run=run, tokens_file=tokens_file)
    print(f"database ready in {time.perf_counter() - began:.1f} s", flush=True)

    from django.utils import timezone

    summary_file = work / "summary.json"
    summary_file.unlink(missing_ok=True)
    with Stack(env=env, workers=2, celery=True, log_dir=work / "logs") as stack:
        for path in ("/accounts/login/", "/accounts/signup/", "/privacy/requests/new/") * 4:
            stack.status(path)  # warm both workers' templates and URLconf
        workers_before = stack.gunicorn_workers()
        since = timezone.now()
        sampler = stack.sampler()
        sampler.start()
        started = time.monotonic() - sampler.started
        locust = subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(ROOT / "loadtest" / "locustfile.py"),
                "--headless",
                "--only-summary",
                "--users",
                str(args.users),
                "--spawn-rate",
                str(args.spawn_rate),
                "--run-time",
                f"{args.duration}s",
                "--stop-timeout",
                "10",
                "--host",
                stack.url,
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "LOADTEST_RUN": run,
                "LOADTEST_PASSWORD": PASSWORD,
                "LOADTEST_LOGIN_USERS": str(args.login_users),
                "LOADTEST_TOKENS": str(tokens_file),
                "LOADTEST_SUMMARY": str(summary_file),
            },
            capture_output=True,
            text=True,
            timeout=args.duration + 120,
        )
        ended = time.monotonic() - sampler.started
        sampler.stop()
        workers_after = stack.gunicorn_workers()
        health = stack.wait_for_status("/healthz", 200, timeout=40)
    if not summary_file.exists():
        print(locust.stdout[-3000:], locust.stderr[-3000:], sep="\n", file=sys.stderr)
        print("FAIL: Locust wrote no summary", file=sys.stderr)
        return 1
    summary = json.loads(summary_file.read_text())
    writes = writes_check(summary["accepted"], since=since)
    memory = memory_verdicts(list(sampler.series.values()), start=started, end=ended)
    failures = verdict(
        statuses=summary["statuses"],
        unexpected=summary["unexpected"],
        writes=writes,
        memory=memory,
        rss_growth_mb=args.rss_growth_mb,
        workers_before=workers_before,
        workers_after=workers_after,
        health=health,
    )
    text = report(
        args=args,
        summary=summary,
        writes=writes,
        memory=memory,
        failures=failures,
        seconds=ended - started,
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)
    print(f"report: {args.out}; logs: {work / 'logs'}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
