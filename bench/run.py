"""`make bench`: seed a dedicated PostgreSQL database, run every benchmark at two sizes (the
Django path and its raw-SQL baseline, in this process), and write bench/RESULTS.md.

    python -m bench.run                       # small and large sizes, every benchmark
    python -m bench.run --sizes smoke         # tiny sizes (make bench-smoke, the test suite)
    python -m bench.run --sizes 1000,20000 --only consent_gate --out /tmp/r.md

The database is BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/workpex_bench):
created when missing, migrated, seeded with `manage.py seed_demo`. Never point it at a database
you care about: the benchmarks add and remove rows in it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from .core import Measurement, database_url

ROOT = Path(__file__).resolve().parent.parent
# In the order of the priorities.
BENCHMARKS = [
    "consent_gate",
    "api_contact_batch",
    "access_export",
    "heavy_erasure",
    "erasure_many",
    "datastore_access",
    "datastore_erasure",
    "notice_schedule",
    "notice_send",
    "child_sweep",
    "officer_desk",
    "unsubscribe_load",
    "api_contact_load",
]
SEED_USERS = {"smoke": 20, "default": 1000}


def _django_setup() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "workpex_portal.settings.local"
    os.environ["DATABASE_URL"] = database_url()
    os.environ["DJANGO_DEBUG"] = "False"  # DEBUG keeps every query in memory
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/9")
    os.environ.setdefault("EMAIL_URL", "dummymail://")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def database_ensure() -> None:
    """Create the bench database when it does not exist (connecting to `postgres`)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(database_url())
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def machine_notes() -> dict[str, str]:
    import platform

    import django
    import psycopg

    from .core import raw

    mem_kb = 0
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    cpu = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    db = raw()
    server = db.fetchall("SHOW server_version")[0][0]
    db.close()
    return {
        "CPU": f"{os.cpu_count()} cores ({cpu})" if cpu else f"{os.cpu_count()} cores",
        "Memory": f"{mem_kb / 2**20:.1f} GiB",
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "Django": django.get_version(),
        "psycopg": psycopg.__version__,
        "PostgreSQL": server,
        "Bench database": f"{urlsplit(database_url()).hostname}{urlsplit(database_url()).path}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="small,large",
        help="comma-separated: named sizes (smoke, small, large) or numbers of rows/users",
    )
    parser.add_argument("--only", action="append", choices=BENCHMARKS, help="repeatable")
    parser.add_argument("--out", default=str(ROOT / "bench" / "RESULTS.md"))
    parser.add_argument("--seed-users", type=int, default=None, help="seed_demo --users")
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    smoke = sizes == ["smoke"]

    database_ensure()
    _django_setup()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    seed = (
        args.seed_users
        if args.seed_users is not None
        else SEED_USERS["smoke" if smoke else "default"]
    )
    call_command("seed_demo", users=seed, no_progress=True, verbosity=0)
    print(
        f"database ready ({seed} demo users) in {time.perf_counter() - started:.1f} s", flush=True
    )

    from . import report

    results: dict[str, list[Measurement]] = {}
    modules = {}
    for name in args.only or BENCHMARKS:
        module = importlib.import_module(f"bench.{name}")
        modules[name] = module
        results[name] = []
        for size in sizes:
            n = module.SIZES[size] if size in module.SIZES else int(size)
            began = time.perf_counter()
            measurements = module.run(n)
            for m in measurements:
                m.size = str(n)
            results[name] += measurements
            django, baseline = measurements[0], measurements[1]
            ratio = django.seconds / baseline.seconds if baseline.seconds else float("inf")
            print(
                f"{name:16} n={n:>8}: django {django.seconds:8.3f} s ({django.queries} q), "
                f"baseline {baseline.seconds:8.3f} s ({baseline.queries} q), "
                f"ratio {ratio:6.2f} [{time.perf_counter() - began:.1f} s]",
                flush=True,
            )
    total = time.perf_counter() - started
    Path(args.out).write_text(
        report.render(
            results=results, modules=modules, machine=machine_notes(), total=total, sizes=sizes
        )
    )
    print(f"wrote {args.out} in {total:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
