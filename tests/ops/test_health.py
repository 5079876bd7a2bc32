from datetime import timedelta

import pytest
from django.utils import timezone

from ops.models import WorkerHeartbeat
from ops.tasks import worker_heartbeat_task
from tests.conftest import wait_for


@pytest.mark.django_db
def test_healthz_is_503_without_a_recent_worker(client):
    WorkerHeartbeat.objects.create(
        hostname="old@host", last_seen=timezone.now() - timedelta(minutes=10)
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"]["ok"] and body["broker"]["ok"]
    assert not body["workers"]["ok"]


@pytest.mark.django_db
def test_healthz_is_200_when_all_are_fine(client):
    WorkerHeartbeat.objects.create(hostname="w1@host", last_seen=timezone.now())
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["workers"]["workers"].keys() == {"w1@host"}


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_does_not_answer(client, monkeypatch):
    from kombu import Connection

    from workpex_portal.celery import app

    WorkerHeartbeat.objects.create(hostname="w1@host", last_seen=timezone.now())
    # A real connection to a port where no broker listens.
    monkeypatch.setattr(
        app, "connection_for_write", lambda *a, **k: Connection("redis://127.0.0.1:1/0")
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert not response.json()["broker"]["ok"]


@pytest.mark.django_db
def test_healthz_only_answers_get(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.worker
def test_a_real_worker_runs_the_heartbeat(celery_worker_process):
    worker_heartbeat_task.delay()
    beat = wait_for(
        lambda: WorkerHeartbeat.objects.filter(hostname__startswith="test-worker@").first()
    )
    assert timezone.now() - beat.last_seen < timedelta(minutes=1)
