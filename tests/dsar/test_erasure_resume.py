"""An erasure resumes from any interruption, and leaves nothing of the person but what a named
legal hold keeps, with its hold-until date (issue 14, points 2 and 3).

A separate OS process runs the erasure (`tests/dsar/erasure_process.py`: Django set up once, then
the Celery task's own function, so no worker boots per label) and is stopped between two
registry steps, for every boundary between two entries of the registry (and after the last one,
before the erasure is closed), then the erasure is resumed. The issue's own case (the request row
already blanked) runs with two real Celery workers. Two ways to stop the process:

- everywhere (PostgreSQL and SQLite): the process is started with DSAR_ERASURE_TEST_KILL_AFTER
  set to a registry label (read by the test settings only), and the erasure engine SIGKILLs its
  own process once that entry's step has committed (`dsar.erasure._test_interruption`);
- PostgreSQL only: the test holds a row lock on the person's rows in the next step's table, so
  the process blocks in that step's statement; the test sees it waiting (pg_stat_activity),
  SIGKILLs it and ends its orphaned backend. SQLite has no row locks, so only the hook runs
  there.

After the resume, every text-like column of every model in the app registry is searched for
the person's email, name and phone (`personal_data_leftovers`): each hit must be a field that a
legal hold of the registry declares it keeps (`hold_fields`).
"""

import os
import signal
import subprocess
import sys
import threading
from datetime import date, timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Invoice, PaymentMethod, User
from dsar import registry, services
from dsar.erasure import personal_data_leftovers
from dsar.models import DataSubjectRequest, ErasureSchedule
from dsar.registry import ErasureStrategy
from dsar.services.erasure import resume_after
from dsar.tasks import erasures_run_due_task
from tests.conftest import ROOT, _database_url, broker_reset, wait_for
from tests.mail_backends import read_deliveries

from .erasees import Erasee, erasee

pytestmark = pytest.mark.worker

# Every registry step: the worker is interrupted after each (the last: before the erasure closes).
LABELS = [entry.label for entry in registry.entries()]


@pytest.fixture
def mail_dir(tmp_path):
    folder = tmp_path / "mail"
    folder.mkdir()
    return folder


@pytest.fixture
def start_worker(transactional_db, settings, mail_dir):
    """Start real worker processes (`celery -A workpex_portal worker`) on the test broker and
    database, with extra environment; all are stopped when the test ends."""
    from django.conf import settings as django_settings

    broker_reset()
    processes: list[subprocess.Popen] = []

    def start(name: str = "first", **extra) -> subprocess.Popen:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "workpex_portal.settings.test",
            "DATABASE_URL": _database_url(connection.settings_dict),
            "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "TEST_EMAIL_BACKEND": "tests.mail_backends.RecordingBackend",
            "TEST_MAIL_DIR": str(mail_dir),
            **{key: str(value) for key, value in extra.items()},
        }
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
                f"--hostname=erasure-{name}@%h",
            ],
            cwd=ROOT,
            env=env,
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    broker_reset()


@pytest.fixture
def start_erasure(transactional_db, settings, mail_dir):
    """Start the erasure of a schedule in a separate plain OS process
    (`python -m tests.dsar.erasure_process`, the task's function without a Celery worker) on the
    test database, with extra environment; any still running are killed when the test ends."""
    processes: list[subprocess.Popen] = []

    def start(schedule_id: int, **extra) -> subprocess.Popen:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "workpex_portal.settings.test",
            "DATABASE_URL": _database_url(connection.settings_dict),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "TEST_EMAIL_BACKEND": "tests.mail_backends.RecordingBackend",
            "TEST_MAIL_DIR": str(mail_dir),
            **{key: str(value) for key, value in extra.items()},
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.dsar.erasure_process", str(schedule_id)],
            cwd=ROOT,
            env=env,
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()


def final_mails(mail_dir) -> list[dict]:
    return [d for d in read_deliveries(mail_dir) if d["subject"] == "We are erasing your data now"]


def resume_now(schedule: ErasureSchedule) -> bool:
    """Run the resume in this process, as the next sweep would once the run is stuck."""
    later = timezone.now() + resume_after() + timedelta(seconds=1)
    assert services.erasures_due(now=later) == [schedule.pk]
    return services.erasure_run(schedule_id=schedule.pk, now=later)


def assert_nothing_left_but_the_holds(who: Erasee) -> None:
    """Judged by effect: a scan of every table finds nothing of the person but the fields a
    legal hold declares it keeps; the kept invoice carries its hold-until date."""
    leftovers = personal_data_leftovers(needles=who.needles)
    for label, field, _rows in leftovers:
        entry = registry.entry_by_label(label)
        assert entry is not None, f"{label}.{field} holds the person and is not registered"
        assert entry.erasure == ErasureStrategy.LEGAL_HOLD, f"{label}.{field} was not erased"
        assert field in entry.hold_fields, f"{label}.{field} is kept but no hold declares it"
    found = {(label, field) for label, field, _rows in leftovers}
    assert ("accounts.Invoice", "billing_name") in found  # the law's part, kept
    assert not User.objects.filter(pk=who.person.user.pk).exists()
    assert not PaymentMethod.objects.filter(user_id=who.person.user.pk).exists()

    invoice = Invoice.objects.get(pk=who.invoice.pk)
    assert invoice.user_id is None and invoice.card_last4 == ""
    assert (invoice.number, invoice.amount_cents, invoice.billing_name) == (
        who.invoice.number,
        4900,
        who.person.user.full_name,
    )
    assert invoice.hold_until == date(who.invoice.issued_at.year + 10, 12, 31)

    request = DataSubjectRequest.objects.get(pk=who.request.pk)
    assert (request.user_id, request.email, request.details) == (None, "", "")
    schedule = ErasureSchedule.objects.get(pk=who.schedule.pk)
    assert schedule.state == ErasureSchedule.State.DONE
    # Whom it erased was on the schedule while it ran, and is gone now it is done.
    assert (schedule.erase_user_id, schedule.erase_email, schedule.erase_extra_email) == (
        None,
        "",
        "",
    )
    kept = {hold["model"]: hold for hold in schedule.kept}
    assert kept["accounts.Invoice"]["until"] == invoice.hold_until.isoformat()
    assert kept["accounts.Invoice"]["identifies"] is True


@pytest.mark.parametrize("label", LABELS)
def test_a_worker_killed_after_any_registry_step_is_resumed_and_nothing_is_left(
    label, start_erasure, mail_dir, mailoutbox
):
    who = erasee()
    worker = start_erasure(who.schedule.pk, DSAR_ERASURE_TEST_KILL_AFTER=label)
    wait_for(lambda: worker.poll() is not None, timeout=120)
    assert worker.returncode == -signal.SIGKILL  # killed itself after the step, as asked

    schedule = ErasureSchedule.objects.get(pk=who.schedule.pk)
    assert schedule.state == ErasureSchedule.State.RUNNING
    assert schedule.erase_user_id == who.person.user.pk
    assert schedule.erase_email == who.person.user.email
    assert len(final_mails(mail_dir)) == 1

    assert resume_now(schedule)
    assert not services.erasure_run(schedule_id=schedule.pk)  # a repeat does nothing
    assert_nothing_left_but_the_holds(who)
    assert not [m for m in mailoutbox if m.subject == "We are erasing your data now"]


def _waiting_backend() -> int | None:
    """The backend of this database waiting for a lock (the worker's), if any."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        row = cursor.fetchone()
    return row[0] if row else None


class RowLock:
    """Holds `FOR NO KEY UPDATE` on some rows in a transaction of its own (a thread with its
    own connection) until released: the worker's UPDATE or DELETE of them waits, while inserts
    that only reference them (FOR KEY SHARE) go on."""

    def __init__(self, model, pks):
        self.model, self.pks = model, list(pks)
        self.locked, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self):
        from django.db import connection as own

        try:
            with transaction.atomic():
                rows = self.model._base_manager.filter(pk__in=self.pks)
                assert len(list(rows.select_for_update(no_key=True))) == len(self.pks)
                self.locked.set()
                self.release.wait(timeout=180)
        finally:
            own.close()

    def __enter__(self):
        self.thread.start()
        assert self.locked.wait(timeout=30)
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join(timeout=30)


@pytest.mark.parametrize("label", LABELS)
def test_a_worker_blocked_on_a_row_lock_in_any_registry_step_killed_and_resumed(
    label, start_erasure, mail_dir
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks; the kill hook interrupts its workers instead")
    who = erasee()
    entry = registry.entry_by_label(label)
    pks = list(entry.rows_for_many(who.subjects).values_list("pk", flat=True))
    if not pks:
        pytest.skip(f"the person has no {label} rows to lock (the kill-hook test covers it)")
    with RowLock(entry.model, pks):
        worker = start_erasure(who.schedule.pk)
        backend = wait_for(_waiting_backend, timeout=120)
        # The worker waits inside this step: the steps before it are done (the account, last,
        # still exists; the person's rows in this table are untouched).
        assert User.objects.filter(pk=who.person.user.pk).exists()
        assert entry.model._base_manager.filter(pk__in=pks).count() == len(pks)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=20)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
    wait_for(lambda: _waiting_backend() is None, timeout=30)

    schedule = ErasureSchedule.objects.get(pk=who.schedule.pk)
    assert schedule.state == ErasureSchedule.State.RUNNING
    assert resume_now(schedule)
    assert_nothing_left_but_the_holds(who)
    assert len(final_mails(mail_dir)) == 1


def test_a_second_worker_resumes_an_erasure_whose_request_was_already_blanked(
    start_worker, mail_dir
):
    """The issue's case: the first worker dies after the request row is blanked and before the
    account is deleted; the beat sweep hands the stuck erasure to another worker, which
    finishes it from what the schedule says (it used to crash on the blanked request)."""
    who = erasee()
    first = start_worker("first", DSAR_ERASURE_TEST_KILL_AFTER="dsar.DataSubjectRequest")
    erasures_run_due_task.delay()
    wait_for(lambda: first.poll() is not None, timeout=120)
    request = DataSubjectRequest.objects.get(pk=who.request.pk)
    assert (request.user_id, request.email) == (None, "")
    assert User.objects.filter(pk=who.person.user.pk).exists()

    start_worker("second", DSAR_ERASURE_RESUME_AFTER_SECONDS=0)

    def done():
        if ErasureSchedule.objects.filter(pk=who.schedule.pk, state="done").exists():
            return True
        erasures_run_due_task.delay()  # beat's part
        return False

    wait_for(done, timeout=120, interval=1.0)
    assert_nothing_left_but_the_holds(who)
    assert len(final_mails(mail_dir)) == 1
