"""`make bench` keeps working: the benchmarks at tiny sizes, in a subprocess, on a database of
their own (the test database's name + "_bench"), so the suite's data is never touched."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.bench


def _bench_database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("the benchmarks run on PostgreSQL only")
    name = (db.get("TEST") or {}).get("NAME") or f"test_{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{name}_bench"


def test_bench_smoke_runs_every_benchmark(tmp_path):
    out = tmp_path / "RESULTS.md"
    env = {
        **os.environ,
        "BENCH_DATABASE_URL": _bench_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--sizes", "smoke", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = out.read_text()
    for title in (
        "Consent gate",
        "API batch may-I-contact",
        "Access export",
        "Heavy-subject erasure",
        "Erasure of many subjects",
        "Access report from a connected data store",
        "Erasure in a connected data store",
        "Policy-notice scheduling",
        "Policy-notice sending",
        "Under-16 sweep",
        "One-click unsubscribe throughput",
        "API may-I-contact for one person",
    ):
        assert title in report
    assert "## Machine" in report
