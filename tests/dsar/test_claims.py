"""The job-claim helper (dsar/claims.py), on a real job table (the under-16 removals): bounded
batches, stuck rows claimed again, and two workers never holding one row, with real threads
and their own database connections on PostgreSQL and on SQLite."""

import itertools
import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import ChildDataReport
from dsar.claims import claim_due, claim_one, stuck_rows

State = ChildDataReport.State
STUCK_AFTER = timedelta(minutes=15)
NUMBERS = itertools.count()


def reports(count, **fields):
    return [
        ChildDataReport.objects.create(
            source=ChildDataReport.Source.DATE_OF_BIRTH,
            state=State.CONFIRMED,
            erase_email=f"child{next(NUMBERS)}@example.org",
            **fields,
        ).pk
        for _ in range(count)
    ]


def due(now):
    return ChildDataReport.objects.filter(
        Q(state=State.CONFIRMED)
        | stuck_rows(state=State.REMOVING, since="started_at", after=STUCK_AFTER, now=now)
    ).order_by("pk")


def mark(now):
    return {"state": State.REMOVING, "started_at": now, "attempts": F("attempts") + 1}


def claim(batch_size=3):
    now = timezone.now()
    return [row.pk for row in claim_due(due(now), batch_size=batch_size, mark=mark(now))]


@pytest.mark.django_db
def test_a_claim_takes_at_most_one_batch_in_order_and_marks_exactly_those_rows():
    pks = reports(7)
    assert claim() == pks[:3]
    assert list(
        ChildDataReport.objects.filter(state=State.REMOVING)
        .order_by("pk")
        .values_list("pk", "attempts")
    ) == [(pk, 1) for pk in pks[:3]]
    assert claim() == pks[3:6]
    assert claim() == pks[6:]
    assert claim() == []
    assert ChildDataReport.objects.filter(state=State.REMOVING).count() == 7


@pytest.mark.django_db
def test_stuck_rows_are_claimed_again_and_rows_being_worked_are_not():
    now = timezone.now()
    stuck = reports(1, started_at=now - STUCK_AFTER - timedelta(seconds=1), attempts=1)
    working = reports(1, started_at=now - STUCK_AFTER + timedelta(minutes=1), attempts=1)
    ChildDataReport.objects.filter(pk__in=stuck + working).update(state=State.REMOVING)
    finished = reports(1, started_at=now - timedelta(days=1))
    ChildDataReport.objects.filter(pk__in=finished).update(state=State.REMOVED)

    assert claim(batch_size=10) == stuck
    again = ChildDataReport.objects.get(pk=stuck[0])
    assert (again.state, again.attempts) == (State.REMOVING, 2)
    assert again.started_at >= now
    assert ChildDataReport.objects.get(pk=working[0]).attempts == 1
    assert claim(batch_size=10) == []  # claimed just now: no longer stuck


@pytest.mark.django_db
def test_rows_read_as_values_are_marked_by_their_first_value_the_key():
    pks = reports(4)
    now = timezone.now()
    rows = claim_due(
        due(now).values_list("pk", "state"), batch_size=2, mark={"state": State.REMOVING}
    )
    assert rows == [(pks[0], State.CONFIRMED), (pks[1], State.CONFIRMED)]  # as read, then marked
    assert set(
        ChildDataReport.objects.filter(state=State.REMOVING).values_list("pk", flat=True)
    ) == set(pks[:2])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_locking_without_marking_needs_the_callers_transaction():
    pks = reports(2)
    with pytest.raises(transaction.TransactionManagementError):
        claim_due(due(timezone.now()), batch_size=1)
    with transaction.atomic():
        report = claim_one(ChildDataReport.objects.filter(pk=pks[1], state=State.CONFIRMED))
        assert report.pk == pks[1]
        assert claim_one(ChildDataReport.objects.filter(pk=pks[0], state=State.REMOVED)) is None


def _in_threads(count, target):
    errors = []

    def run():
        try:
            target()
        except Exception as error:  # reported to the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_workers_claiming_at_the_same_time_share_the_rows_and_never_get_the_same_one():
    """Four threads, each with its own connection, claim batches until nothing is due: every
    row is claimed exactly once (PostgreSQL: SKIP LOCKED; SQLite: BEGIN IMMEDIATE makes the
    claims take turns)."""
    pks = reports(60)
    start = threading.Barrier(4, timeout=20)
    claimed = []

    def worker():
        start.wait()
        while batch := claim(batch_size=4):
            claimed.extend(batch)

    _in_threads(4, worker)
    assert sorted(claimed) == pks
    assert set(ChildDataReport.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.postgresql_only(
    reason="SQLite has one writer at a time (BEGIN IMMEDIATE): a second claimer waits for the "
    "first to commit instead of skipping its rows (the test above covers it)"
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_claimer_skips_the_rows_another_holds_without_waiting_for_it():
    pks = reports(5)
    locked, release = threading.Event(), threading.Event()
    held = []

    def holder():
        with transaction.atomic():
            held.extend(row.pk for row in claim_due(due(timezone.now()), batch_size=2))
            locked.set()
            release.wait(timeout=30)

    thread = threading.Thread(target=lambda: (holder(), connection.close()))
    thread.start()
    try:
        assert locked.wait(timeout=20)
        assert held == pks[:2]
        assert claim(batch_size=10) == pks[2:]  # at once: the held rows are skipped
    finally:
        release.set()
        thread.join(timeout=30)
    # The holder only locked them (no mark): once it ended they are due again.
    assert claim(batch_size=10) == pks[:2]


def test_a_sqlite_database_without_begin_immediate_is_a_system_check_error():
    from dsar.checks import check_sqlite_claims_take_turns, sqlite_without_begin_immediate

    sqlite = {"ENGINE": "django.db.backends.sqlite3", "NAME": "x.sqlite3"}
    databases = {
        "deferred": {**sqlite, "OPTIONS": {"timeout": 20}},
        "bare": sqlite,
        "immediate": {**sqlite, "OPTIONS": {"transaction_mode": "IMMEDIATE"}},
        "postgres": {"ENGINE": "django.db.backends.postgresql", "NAME": "x"},
    }
    assert sqlite_without_begin_immediate(databases) == ["deferred", "bare"]
    # This project's own settings (either backend) pass.
    assert check_sqlite_claims_take_turns() == []
