"""The load test (issue 9 point 4): its pass criteria, and its short form against the real stack.

The short form runs `python -m loadtest.run` in a subprocess on the test database (gunicorn with
2 workers, a Celery worker and beat, Locust in a process of its own) for 25 seconds; the
transactional test with serialized rollback leaves the database as it found it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from loadtest.run import Writes, verdict
from loadtest.stack import Series, memory_verdicts
from tests.conftest import _database_url, broker_reset

ROOT = Path(__file__).resolve().parent.parent


def _clean(**overrides):
    arguments = {
        "statuses": {"dashboard": {"200": 40}, "signup": {"302": 5}},
        "unexpected": [],
        "writes": [Writes("signup", 5, 5), Writes("unsubscribe", 3, 3)],
        "memory": memory_verdicts(
            [Series("gunicorn worker", 1, [(t, 100.0) for t in range(100)])], start=0, end=99
        ),
        "rss_growth_mb": 25.0,
        "workers_before": [1, 2],
        "workers_after": [2, 1],
        "health": 200,
    }
    return verdict(**{**arguments, **overrides})


def test_a_clean_run_passes():
    assert _clean() == []


@pytest.mark.parametrize("code", ["500", "502", "0"])
def test_a_server_error_or_failed_connection_fails(code):
    failures = _clean(statuses={"dashboard": {"200": 40, code: 1}})
    assert len(failures) == 1 and "dashboard: 1" in failures[0]


def test_a_lost_write_fails():
    failures = _clean(writes=[Writes("signup", 5, 4, ["no user lt_1"])])
    assert failures == [
        "signup: 1 accepted writes not (exactly once) in the database, e.g. no user lt_1"
    ]


def test_a_flow_that_accepted_nothing_fails():
    assert _clean(writes=[Writes("signup", 0, 0)]) == [
        "signup: nothing was accepted, so nothing was tested"
    ]


def test_an_unexpected_answer_fails():
    failures = _clean(unexpected=[{"name": "signup", "status": 429, "location": ""}])
    assert failures and "signup 429" in failures[0]


def test_memory_growth_past_the_bound_fails_and_warm_up_does_not_count():
    # Grows 50 MB during the warm-up (first fifth), then is flat: passes.
    warm = [(t, 50.0 + min(t, 19) * 2.5) for t in range(100)]
    assert _clean(memory=memory_verdicts([Series("w", 7, warm)], start=0, end=99)) == []
    # Grows steadily by 0.5 MB a second: about 35 MB between the windows, over 25 MB.
    leak = [(t, 100.0 + t * 0.5) for t in range(100)]
    failures = _clean(memory=memory_verdicts([Series("w", 7, leak)], start=0, end=99))
    assert len(failures) == 1 and failures[0].startswith("memory: w 7 grew")


def test_a_replaced_worker_or_an_unhealthy_stack_fails():
    assert _clean(workers_after=[1, 3]) == ["gunicorn workers replaced: [1, 2] → [1, 3]"]
    assert _clean(health=503) == ["/healthz answered 503 after the run"]


@pytest.mark.load
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_short_load_run_has_no_errors_no_lost_writes_and_stable_memory(tmp_path):
    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("the load test runs the production shape: PostgreSQL and Redis")
    broker_reset()
    out = tmp_path / "report.md"
    env = {
        **os.environ,
        "LOADTEST_DATABASE_URL": _database_url(connection.settings_dict),
        "LOADTEST_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "loadtest.run", "--duration", "25", "--users", "6"]
        + ["--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    broker_reset()
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    report = out.read_text()
    assert "PASS: no 5xx, no lost write, memory stable." in report
    for flow in ("signup", "unsubscribe", "privacy request"):
        assert f"| {flow} |" in report
