"""Jobs that never lose work, proven with real Celery worker processes on Redis and PostgreSQL.

Each test starts its own workers (`celery -A workpex_portal worker`) with the test mail backend
`tests.mail_backends.RecordingBackend`, which writes every accepted message to its own file, so
deliveries are counted exactly, and which can hang "inside the SMTP call" at the n-th hand-over
(`TEST_MAIL_BLOCK_AT`) so that a worker is killed at a known point. Small batches (5) and short
"stuck" thresholds (2 s) keep each test within seconds. Beat is played by the test: it sends the
sweep tasks, as the periodic tasks would.

The exactly-once contract (docs/jobs-and-operations.md): a notice row is claimed (`sending`,
with a token) before the hand-over and marked `sent` after its batch; the only repeat possible
is a message the mail server had already accepted in the batch of a worker that died before
marking it, and that repeat carries the same Message-ID. The tests pin both sides of that window.
"""

import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta

import pytest
from celery import Celery
from django.utils import timezone

from accounts import child_removal
from accounts.models import ChildDataReport, User
from accounts.tasks import child_removals_run_due_task
from consent import policies, services
from consent.models import PolicyNotice, PolicyVersion
from consent.tasks import policy_notices_send_task, policy_notices_sweep_task
from tests.accounts.factories import UserFactory
from tests.conftest import ROOT, _database_url, broker_reset, wait_for
from tests.mail_backends import read_deliveries

pytestmark = pytest.mark.worker

BATCH = 5


class WorkerPool:
    """Real worker processes, started, SIGKILLed and stopped by the test."""

    def __init__(self, env: dict):
        self.env = env
        self.processes: list[subprocess.Popen] = []

    def start(self, name: str, *, broker: str | None = None, **extra) -> subprocess.Popen:
        env = {**self.env, **{k: str(v) for k, v in extra.items()}}
        if broker:
            env["CELERY_BROKER_URL"] = broker
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workpex_portal",
                "worker",
                "--pool=solo",
                "--loglevel=ERROR",
                "--without-mingle",
                "--without-gossip",
                f"--hostname=reliability-{name}@%h",
            ],
            cwd=ROOT,
            env=env,
        )
        self.processes.append(process)
        return process

    @staticmethod
    def kill(process: subprocess.Popen) -> None:
        """SIGKILL: no clean-up, no ack, whatever the worker was doing."""
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=20)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def mail_dir(tmp_path):
    folder = tmp_path / "mail"
    folder.mkdir()
    return folder


@pytest.fixture
def workers(transactional_db, settings, mail_dir):
    from django.conf import settings as django_settings
    from django.db import connection

    broker_reset()
    pool = WorkerPool(
        {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "workpex_portal.settings.test",
            "DATABASE_URL": _database_url(connection.settings_dict),
            "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "TEST_EMAIL_BACKEND": "tests.mail_backends.RecordingBackend",
            "TEST_MAIL_DIR": str(mail_dir),
            "CONSENT_NOTICE_BATCH_SIZE": str(BATCH),
            "CONSENT_NOTICE_STUCK_AFTER_SECONDS": "2",
            "ACCOUNTS_CHILD_REMOVAL_STUCK_AFTER_SECONDS": "2",
        }
    )
    yield pool
    pool.stop_all()
    broker_reset()


def people(count: int) -> list[int]:
    User.objects.bulk_create(
        [
            User(
                username=f"reader{i}",
                email=f"reader{i}@example.com",
                full_name=f"Reader {i}",
                company_name="Readers Ltd",
                country="IE",
                password="!",
            )
            for i in range(count)
        ]
    )
    return list(User.objects.order_by("pk").values_list("pk", flat=True))


def publish(version: str = "2.0") -> PolicyVersion:
    """Publish a material version; the fan-out's wake-up message leaves after the commit."""
    policy = services.policy_version_draft(
        version=version,
        text="# Policy\n\nChanged.",
        summary_of_changes="We changed who we share data with.",
        is_material=True,
        effective_at=timezone.now() + timedelta(days=31),
    )
    return services.policy_version_publish(policy=policy)


def sent_count(policy) -> int:
    return PolicyNotice.objects.filter(version=policy, state="sent").count()


def all_sent_while_sweeping(policy, total: int, sweep=None):
    """Beat's part: send the sweep until every notice is sent (no sleeping and hoping)."""
    sweep = sweep or policy_notices_sweep_task.delay

    def done():
        if sent_count(policy) == total:
            return True
        sweep()
        return False

    wait_for(done, timeout=90, interval=1.0)


def notice_deliveries(mail_dir):
    return [d for d in read_deliveries(mail_dir) if "privacy policy" in d["subject"]]


def assert_each_person_once(deliveries, policy, *, raw_repeats: int = 0):
    """Every person has exactly one notice (one Message-ID, theirs); `raw_repeats` messages were
    handed over twice, each time with that same Message-ID."""
    expected = {
        policies.notice_message_id(pk): email
        for pk, email in PolicyNotice.objects.filter(version=policy).values_list(
            "pk", "user__email"
        )
    }
    ids = Counter(d["message_id"] for d in deliveries)
    assert set(ids) == set(expected)
    for delivery in deliveries:
        assert expected[delivery["message_id"]] == delivery["to"]
    assert len(deliveries) == len(expected) + raw_repeats
    assert sum(n - 1 for n in ids.values()) == raw_repeats


# --- SIGKILL in the middle of a notice fan-out -------------------------------------------------


@pytest.mark.parametrize(
    "block_at, repeats",
    [
        (BATCH + 1, 0),  # killed on the first message of batch 2: nothing repeated at all
        (BATCH + 3, 2),  # killed on its third: the two accepted before it go again, same ID
    ],
)
def test_a_worker_killed_mid_fan_out_then_replaced_sends_every_notice_once(
    workers, mail_dir, block_at, repeats
):
    people(20)
    first = workers.start("first", TEST_MAIL_BLOCK_AT=block_at)
    policy = publish()
    wait_for(lambda: (mail_dir / "blocked").exists(), timeout=60)
    workers.kill(first)
    # Batch 1 was recorded; batch 2 was claimed and stays `sending` with its dead worker.
    assert sent_count(policy) == BATCH
    assert PolicyNotice.objects.filter(version=policy, state="sending").count() == BATCH
    assert len(notice_deliveries(mail_dir)) == block_at - 1

    workers.start("second")
    all_sent_while_sweeping(policy, 20)

    assert_each_person_once(notice_deliveries(mail_dir), policy, raw_repeats=repeats)
    assert not PolicyNotice.objects.filter(version=policy).exclude(state="sent").exists()


# --- SIGKILL in the middle of a removal batch --------------------------------------------------


def test_a_worker_killed_mid_removal_batch_then_replaced_completes_every_removal(workers, mail_dir):
    officer = UserFactory(is_staff=True)
    born = date(timezone.localdate().year - 13, 6, 1)
    kids = [UserFactory(username=f"kid{i}", date_of_birth=born) for i in range(6)]
    first = workers.start("first", TEST_MAIL_BLOCK_AT=3)
    reports = []
    for i, kid in enumerate(kids):
        report = child_removal.child_report_submit(
            reporter_email=f"reporter{i}@example.net", child_name="A child", child_email=kid.email
        )
        reports.append(child_removal.child_report_confirm(report=report, actor=officer))
    # The third removal erased the child, then hung handing over the reporter's mail.
    wait_for(lambda: (mail_dir / "blocked").exists(), timeout=60)
    workers.kill(first)
    assert ChildDataReport.objects.filter(state="removed").count() == 2
    assert ChildDataReport.objects.filter(state="removing").count() == 1

    workers.start("second")

    def done():
        if ChildDataReport.objects.filter(state="removed").count() == 6:
            return True
        child_removals_run_due_task.delay()
        return False

    wait_for(done, timeout=90, interval=1.0)
    assert not User.objects.filter(pk__in=[k.pk for k in kids]).exists()
    told = Counter(d["to"] for d in read_deliveries(mail_dir))
    assert told == {f"reporter{i}@example.net": 1 for i in range(6)}
    assert ChildDataReport.objects.get(attempts=2).state == "removed"  # the resumed one


# --- Redis restarted in the middle of a run ---------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_start(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )

    def answers():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    wait_for(answers, timeout=20, interval=0.1)
    return process


@pytest.fixture
def throwaway_redis():
    port = free_port()
    state = {"process": redis_start(port), "port": port}
    yield state
    if state["process"].poll() is None:
        state["process"].terminate()
        state["process"].wait(timeout=10)


def test_redis_restarted_mid_run_the_work_finishes_once_it_is_back(
    workers, mail_dir, throwaway_redis
):
    port = throwaway_redis["port"]
    broker = f"redis://127.0.0.1:{port}/0"
    sender = Celery("test-sender", set_as_current=False)  # shared tasks keep the suite's app

    def sweep():
        # An explicit connection: the suite's CELERY_BROKER_URL would win over broker=...
        with sender.connection_for_write(broker) as connection:
            sender.send_task("consent.tasks.policy_notices_sweep_task", connection=connection)

    total = 60
    people(total)
    workers.start(
        "on-throwaway-redis",
        broker=broker,
        TEST_MAIL_DELAY="0.05",
        CONSENT_NOTICE_BATCHES_PER_TASK=1,
    )
    policy = publish()  # its message goes to the suite's broker, where no worker listens
    sweep()
    wait_for(lambda: sent_count(policy) >= BATCH, timeout=60, interval=0.1)

    throwaway_redis["process"].kill()  # every queued and unacknowledged message is gone
    throwaway_redis["process"].wait(timeout=10)
    assert sent_count(policy) < total, "the run finished before Redis went away"
    throwaway_redis["process"] = redis_start(port)  # empty: no persistence

    all_sent_while_sweeping(policy, total, sweep=sweep)
    assert_each_person_once(notice_deliveries(mail_dir), policy)


# --- A lost message: the row is due, no message will come ------------------------------------


def test_lost_messages_are_picked_up_by_the_beat_sweepers(workers, mail_dir):
    from workpex_portal.celery import app

    people(12)
    policy = publish()
    # Made after publishing, so no notice of theirs is erased with them.
    kid = UserFactory(username="lostkid", date_of_birth=date(2015, 6, 1))
    officer = UserFactory(is_staff=True)
    report = child_removal.child_report_submit(
        reporter_email="lost@example.net", child_name="Kid", child_email=kid.email
    )
    child_removal.child_report_confirm(report=report, actor=officer)
    assert app.control.purge() >= 2  # the wake-up messages are lost before any worker runs
    workers.start("only")

    policy_notices_sweep_task.delay()
    child_removals_run_due_task.delay()
    wait_for(lambda: sent_count(policy) == PolicyNotice.objects.count(), timeout=60)
    wait_for(
        lambda: ChildDataReport.objects.filter(pk=report.pk, state="removed").exists(),
        timeout=60,
    )
    assert_each_person_once(notice_deliveries(mail_dir), policy)
    assert not User.objects.filter(pk=kid.pk).exists()


# --- Two workers on the same fan-out -----------------------------------------------------------


def test_two_workers_on_the_same_fan_out_send_no_duplicates(workers, mail_dir):
    from workpex_portal.celery import app

    total = 60
    people(total)
    for name in ("left", "right"):
        workers.start(name, TEST_MAIL_DELAY="0.02", CONSENT_NOTICE_BATCHES_PER_TASK=1)
    wait_for(lambda: len(app.control.ping(timeout=0.5)) >= 2, timeout=60)
    policy = publish()
    for _ in range(3):  # duplicated messages, as a redelivery or a sweep would make
        policy_notices_send_task.delay(policy.pk)
    wait_for(lambda: sent_count(policy) == total, timeout=90)

    deliveries = notice_deliveries(mail_dir)
    assert_each_person_once(deliveries, policy)
    assert len({d["pid"] for d in deliveries}) == 2  # both workers did part of it
    assert not PolicyNotice.objects.filter(version=policy).exclude(state="sent").exists()
