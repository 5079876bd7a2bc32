"""Each system's part of a request (issue 18.3, 18.5, 18.6): a job row run set-based, retried
with backoff, resumed after its worker was killed, a task confirmed by hand; the request is
completed only when every part is done; the access report and the portability package hold
each system's data with its categories (tests/datastores/test_access_parts.py)."""

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
import sqlalchemy as sa
from django.db import connection
from django.utils import timezone

from datastores import services
from datastores.engine import engine_open, keyed_hash
from datastores.models import SystemPart
from dsar import services as dsar_services
from dsar.models import DataSubjectRequest, ExportFile, RequestKind, RequestState
from tests.conftest import ROOT, _database_url, wait_for

from .shop import ALICE, BOB, customers, order_items, orders, rows, shop_create
from .systems import alice, in_progress, manual_system, sql_system
from .systems import erasure_run as _erasure_run


def _state(request) -> str:
    return DataSubjectRequest.objects.get(pk=request.pk).state


@pytest.mark.django_db
def test_an_erasure_waits_for_each_systems_part_then_completes(shop_url):
    system = sql_system(shop_url)
    request = in_progress(alice(), RequestKind.ERASURE)
    _erasure_run(request)
    part = SystemPart.objects.get(request=request, system=system)
    assert part.state == SystemPart.State.PENDING
    assert part.identities["email"] == [ALICE]
    assert _state(request) == RequestState.IN_PROGRESS
    assert "The erasure in the connected systems is not done yet." in (
        dsar_services.request_completion_blockers(request)
    )

    assert services.system_part_run(part_id=part.pk)
    part.refresh_from_db()
    assert part.state == SystemPart.State.DONE
    assert part.counts == {"order_items": 3, "orders": 2, "customers": 1}
    assert part.identities == {} and part.anchors is None  # whom it erased is not kept
    assert _state(request) == RequestState.COMPLETED
    assert rows(shop_url, customers)[1]["email"] is None
    assert rows(shop_url, customers)[2]["email"] == BOB
    assert not services.system_part_run(part_id=part.pk)  # a repeat does nothing


@pytest.mark.django_db
def test_a_failing_system_is_retried_with_backoff(pg_url):
    shop_create(pg_url)
    system = sql_system(pg_url)  # the dataset is checked: the tables exist
    request = in_progress(alice(), RequestKind.ERASURE)
    with engine_open(pg_url).begin() as conn:  # the database loses a table
        conn.execute(sa.text("DROP TABLE order_items"))
    _erasure_run(request)
    part = SystemPart.objects.get(request=request, system=system)
    assert not services.system_part_run(part_id=part.pk)
    part.refresh_from_db()
    assert part.state == SystemPart.State.FAILED and part.attempts == 1
    assert "order_items" in part.last_error
    wait = part.next_attempt_at - timezone.now()
    assert timedelta(seconds=20) < wait <= timedelta(seconds=30)
    assert not services.system_part_run(part_id=part.pk)  # not due yet
    assert services.retry_delay(3) == timedelta(seconds=120)  # doubling, capped
    assert services.retry_delay(30) == timedelta(hours=6)

    with engine_open(pg_url).begin() as conn:
        conn.execute(sa.text("DROP TABLE orders"))
        conn.execute(sa.text("DROP TABLE customers"))
    shop_create(pg_url)
    SystemPart.objects.filter(pk=part.pk).update(next_attempt_at=timezone.now())
    assert services.system_part_run(part_id=part.pk)
    assert _state(request) == RequestState.COMPLETED


@pytest.mark.django_db
def test_a_system_done_by_hand_is_a_task_and_the_request_waits_for_its_confirmation(
    sqlite_url,
):
    shop_create(sqlite_url)
    sql = sql_system(sqlite_url)
    paper = manual_system()
    request = in_progress(alice(), RequestKind.ERASURE)
    _erasure_run(request)
    services.system_part_run(part_id=SystemPart.objects.get(system=sql).pk)
    task = SystemPart.objects.get(request=request, system=paper)
    assert task.state == SystemPart.State.MANUAL
    assert task.instructions == "Shred the person's paper order forms."
    assert task.team == "Back office"
    assert task.due_at > timezone.now() + timedelta(days=4)
    assert _state(request) == RequestState.IN_PROGRESS
    with pytest.raises(Exception, match="Say what was done"):
        services.system_part_confirm(part=task, actor=None, confirmation="  ")
    officer = alice().__class__.objects.create(username="officer1", is_staff=True)
    services.system_part_confirm(part=task, actor=officer, confirmation="Shredded 3 forms.")
    task.refresh_from_db()
    assert task.confirmed_by == officer and task.state == SystemPart.State.DONE
    assert _state(request) == RequestState.COMPLETED


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_killed_mid_part_is_resumed_without_repeating_a_step(pg_url, settings):
    shop_create(pg_url)
    system = sql_system(pg_url)
    request = in_progress(alice(), RequestKind.ERASURE)
    _erasure_run(request)
    part = SystemPart.objects.get(request=request, system=system)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "workpex_portal.settings.test",
        "DATABASE_URL": _database_url(connection.settings_dict),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "DATASTORES_TEST_KILL_AFTER": "orders",
    }
    process = subprocess.run(
        [sys.executable, "-m", "tests.datastores.part_process", str(part.pk)],
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert process.returncode == -9  # SIGKILLed after the orders step committed
    part.refresh_from_db()
    assert part.state == SystemPart.State.RUNNING
    assert part.done_collections == ["order_items", "orders"]
    assert rows(pg_url, customers)[1]["email"] == ALICE  # not reached yet
    hashed = rows(pg_url, orders)[10]["ip_address"]
    assert hashed == keyed_hash("10.0.0.1", services.app_settings.hmac_key())

    assert not services.system_part_run(part_id=part.pk)  # running: not handed out yet
    SystemPart.objects.filter(pk=part.pk).update(next_attempt_at=timezone.now())  # stuck
    assert services.system_parts_sweep() == 1
    assert services.system_part_run(part_id=part.pk)
    part.refresh_from_db()
    assert part.state == SystemPart.State.DONE and part.attempts == 2
    assert rows(pg_url, orders)[10]["ip_address"] == hashed  # not hashed twice
    assert rows(pg_url, customers)[1]["email"] is None
    assert sorted(rows(pg_url, order_items)) == [200]
    assert _state(request) == RequestState.COMPLETED


@pytest.mark.worker
def test_a_real_worker_runs_the_part_the_erasure_wakes(celery_worker_process, pg_url):
    shop_create(pg_url)
    sql_system(pg_url)
    request = in_progress(alice(), RequestKind.ERASURE)
    _erasure_run(request)  # commits: the part's message wakes the worker
    wait_for(
        lambda: SystemPart.objects.filter(request=request, state=SystemPart.State.DONE).exists(),
        timeout=60,
    )
    dsar_services.erasure_complete_if_possible(request=request)  # if the worker was first
    assert _state(request) == RequestState.COMPLETED
    assert rows(pg_url, customers)[1]["name"] == "[erased]"


@pytest.mark.worker
def test_a_real_worker_reads_the_access_part_then_builds_the_report(celery_worker_process, pg_url):
    shop_create(pg_url)
    sql_system(pg_url)
    request = in_progress(alice(), RequestKind.ACCESS)
    dsar_services.dsar_request_apply(request=request, actor=None)  # commits: wakes the part
    wait_for(
        lambda: request.exports.filter(state=ExportFile.State.READY).exists(),
        timeout=60,
    )
    assert SystemPart.objects.get(request=request).state == SystemPart.State.DONE
    report = json.loads(request.exports.get().data_file.read())
    assert {s["collection"] for s in report["connected_systems"]} == {
        "customers",
        "orders",
        "order_items",
    }


@pytest.mark.django_db
def test_a_dataset_can_find_the_person_by_the_phone_number_of_their_account(sqlite_url):
    from datastores.models import ConnectedSystem
    from tests.accounts.factories import UserFactory

    from .shop import example_text

    shop_create(sqlite_url)
    with engine_open(sqlite_url).begin() as conn:
        conn.execute(sa.update(customers).where(customers.c.id == 1).values(phone="+353861234567"))
    system = ConnectedSystem(name="Shop by phone", kind=ConnectedSystem.Kind.SQL)
    services.system_url_set(system=system, url=sqlite_url)
    system.save()
    by_phone = example_text().replace(
        "          - name: phone\n            data_categories: [user.contact.phone_number]\n",
        "          - name: phone\n            data_categories: [user.contact.phone_number]\n"
        "            fides_meta:\n              identity: phone_number\n",
    )
    services.dataset_upload(system=system, text=by_phone, actor=None)
    person = UserFactory(email="not-in-the-shop@example.com", phone="+353861234567")
    request = in_progress(person, RequestKind.ERASURE)
    _erasure_run(request)
    part = SystemPart.objects.get(request=request)
    assert part.identities["phone_number"] == ["+353861234567"]
    assert services.system_part_run(part_id=part.pk)
    assert part.__class__.objects.get(pk=part.pk).counts == {
        "order_items": 3,
        "orders": 2,
        "customers": 1,
    }
    assert rows(sqlite_url, customers)[1]["phone"] is None
    assert rows(sqlite_url, customers)[2]["phone"] == "+449876543"
