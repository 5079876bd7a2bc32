"""The export and erasure jobs, end to end with a real Celery worker process on PostgreSQL and
Redis, plus the crash-and-resume cases called directly."""

import json
import os
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from dsar import services
from dsar.erasure import personal_data_leftovers
from dsar.models import (
    AuditEvent,
    DataSubjectRequest,
    ErasureSchedule,
    ExportFile,
    RequestKind,
    RequestState,
)
from tests.accounts.factories import UserFactory
from tests.conftest import read_mail_dir, wait_for

from .people import make_person as _make_person


def make_person(name):
    return _make_person(
        username=name,
        full_name=f"{name.title()} Testperson",
        phone="+353 1 555 0100",
        staff=UserFactory(is_staff=True),
    )


@pytest.fixture(autouse=True)
def providers(settings):
    settings.DSAR_SERVICE_PROVIDERS = [
        {"key": "crm", "name": "CRM", "adapter": "tests.dsar.adapters.RecordingAdapter"}
    ]


def in_progress(user, kind):
    request, _ = services.dsar_request_file(kind=kind, user=user)
    return services.dsar_request_transition(request=request, to_state="in_progress", actor=None)


@pytest.mark.worker
def test_access_request_end_to_end_with_a_real_worker(celery_worker_process):
    person = make_person("ada")
    officer = UserFactory(is_staff=True)
    officer.groups.add(Group.objects.get(name="Privacy officer"))  # may work requests
    request = in_progress(person.user, RequestKind.ACCESS)
    services.dsar_request_assign(request=request, assignee=officer, actor=officer)
    services.dsar_request_apply(request=request, actor=officer)  # commits: the worker wakes

    export = wait_for(
        lambda: ExportFile.objects.filter(request=request, state="ready").first(), timeout=60
    )
    assert export.file.name.endswith(".html") and export.data_file.name.endswith(".json")
    # Not released yet: the person cannot download it.
    owner = Client()
    owner.force_login(person.user)
    url = f"/privacy/exports/{export.public_id}/report.json"
    assert owner.get(url).status_code == 404

    services.export_release(export=export, actor=officer)
    request.refresh_from_db()
    assert request.state == RequestState.COMPLETED
    response = owner.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    report = json.loads(b"".join(response.streaming_content))
    assert report["subject"] == f"user:{person.user.pk}"
    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.get(url).status_code == 404
    assert Client().get(url).status_code == 404


@pytest.mark.worker
def test_erasure_end_to_end_with_a_real_worker(celery_worker_process, worker_mail_dir):
    from dsar.tasks import erasures_run_due_task

    person = make_person("grace")
    request = in_progress(person.user, RequestKind.ERASURE)
    services.dsar_request_apply(request=request, actor=None)
    schedule = ErasureSchedule.objects.get(request=request)
    assert schedule.due_at > timezone.now() + timedelta(days=13)
    ErasureSchedule.objects.filter(pk=schedule.pk).update(due_at=timezone.now())

    erasures_run_due_task.delay()
    wait_for(
        lambda: ErasureSchedule.objects.filter(pk=schedule.pk, state="done").exists(), timeout=60
    )
    mails = read_mail_dir(worker_mail_dir)
    assert "We are erasing your data now" in mails and person.user.email in mails
    # Everything is gone but the address a by-hand recipient still has to be told about
    # (the default payment processor has no API): Art. 19 keeps it until an officer has.
    assert personal_data_leftovers(needles=person.needles) == [
        ("dsar.RecipientNotification", "subject_email", 1)
    ]
    request = DataSubjectRequest.objects.get(pk=request.pk)
    assert request.state == RequestState.IN_PROGRESS
    assert (request.user_id, request.email) == (None, "")  # kept as a record, detached
    by_hand = request.recipient_notifications.get(adapter="")
    services.recipient_notification_mark_done(notification=by_hand, actor=None)
    assert personal_data_leftovers(needles=person.needles) == []
    services.dsar_request_transition(request=request, to_state="completed", actor=None)


@pytest.mark.django_db
def test_the_person_can_cancel_during_the_grace_period(user_client, user):
    request = in_progress(user, RequestKind.ERASURE)
    services.dsar_request_apply(request=request, actor=None)
    page = user_client.get(f"/privacy/requests/{request.public_id}/").content.decode()
    assert "Cancel the erasure" in page
    user_client.post(f"/privacy/requests/{request.public_id}/cancel-erasure/")
    request.refresh_from_db()
    assert request.state == RequestState.WITHDRAWN
    assert request.erasure.state == ErasureSchedule.State.CANCELLED
    assert services.erasures_due(now=timezone.now() + timedelta(days=30)) == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_erasure_whose_worker_died_is_resumed_without_a_second_final_mail(
    mailoutbox, django_capture_on_commit_callbacks
):
    person = make_person("alan")
    request = in_progress(person.user, RequestKind.ERASURE)
    services.dsar_request_apply(request=request, actor=None)
    schedule = request.erasure
    # The first worker claimed it and sent the final mail, then died.
    ErasureSchedule.objects.filter(pk=schedule.pk).update(
        state="running",
        started_at=timezone.now() - timedelta(minutes=20),
        final_mail_sent_at=timezone.now(),
    )
    assert services.erasures_due() == [schedule.pk]
    assert services.erasure_run(schedule_id=schedule.pk)
    assert not services.erasure_run(schedule_id=schedule.pk)  # a repeat does nothing
    assert personal_data_leftovers(needles=person.needles) == []
    assert not [m for m in mailoutbox if "erasing your data now" in m.subject]


@pytest.mark.django_db
def test_export_sweep_deletes_expired_files_and_retries_stuck_builds(user):
    request = in_progress(user, RequestKind.PORTABILITY)
    services.dsar_request_apply(request=request, actor=None)
    export = request.exports.get()
    assert services.export_build(export_id=export.pk)
    assert not services.export_build(export_id=export.pk)  # a repeated message does nothing
    export.refresh_from_db()
    path = export.file.path
    assert export.state == "ready" and export.file.storage.exists(export.file.name)

    result = services.exports_sweep(now=timezone.now() + timedelta(days=8))
    assert result["deleted"] == 1
    export.refresh_from_db()
    assert export.state == "deleted" and not export.file
    assert not os.path.exists(path)

    stuck, _ = services.dsar_request_file(kind=RequestKind.ACCESS, user=UserFactory())
    stuck_export = ExportFile.objects.create(
        request=stuck,
        kind="access",
        state="building",
        started_at=timezone.now() - timedelta(hours=1),
    )
    ExportFile.objects.filter(pk=stuck_export.pk).update(
        created_at=timezone.now() - timedelta(hours=1)
    )
    result = services.exports_sweep()
    assert result["stuck"] == 1 and result["woken"] >= 1
    assert services.export_build(export_id=stuck_export.pk)


@pytest.mark.django_db
def test_only_the_person_cancels_their_erasure(client, user):
    request = in_progress(user, RequestKind.ERASURE)
    services.dsar_request_apply(request=request, actor=None)
    client.force_login(UserFactory())
    response = client.post(f"/privacy/requests/{request.public_id}/cancel-erasure/")
    assert response.status_code == 404
    assert ErasureSchedule.objects.get(request=request).state == "scheduled"


@pytest.mark.django_db
def test_only_the_assigned_officer_downloads_a_package_for_review(client, make_staff, user):
    from dsar.models import AuditEvent
    from tests.conftest import login_with_totp

    assigned, _ = make_staff()
    other, secret = make_staff()
    request = in_progress(user, RequestKind.PORTABILITY)
    services.dsar_request_assign(request=request, assignee=assigned, actor=None)
    services.dsar_request_apply(request=request, actor=None)
    export = request.exports.get()
    services.export_build(export_id=export.pk)
    url = f"/admin/dsar/datasubjectrequest/{request.pk}/exports/{export.pk}/package.zip"
    login_with_totp(client, other, secret)
    assert client.get(url).status_code == 403
    assert AuditEvent.objects.filter(action="export_download_refused", actor=other).exists()
    client.force_login(assigned)  # a session without MFA is refused by the admin as a whole
    assert client.get(url).status_code == 302


@pytest.mark.django_db
def test_an_expired_download_link_refuses(user_client, user):
    request = in_progress(user, RequestKind.PORTABILITY)
    services.dsar_request_apply(request=request, actor=None)
    export = request.exports.get()
    services.export_build(export_id=export.pk)
    services.export_release(export=export, actor=None)
    url = f"/privacy/exports/{export.public_id}/package.zip"
    assert user_client.get(url).status_code == 200
    ExportFile.objects.filter(pk=export.pk).update(expires_at=timezone.now())
    assert user_client.get(url).status_code == 404
    assert user_client.get(f"/privacy/exports/{export.public_id}/secrets.txt").status_code == 404


@pytest.mark.django_db
def test_a_file_gone_from_storage_is_explained_and_reported_not_a_server_error(user_client, user):
    request = in_progress(user, RequestKind.PORTABILITY)
    services.dsar_request_apply(request=request, actor=None)
    export = request.exports.get()
    services.export_build(export_id=export.pk)
    services.export_release(export=export, actor=None)
    export.refresh_from_db()
    export.file.storage.delete(export.file.name)  # lost by the storage, not by us

    response = user_client.get(f"/privacy/exports/{export.public_id}/package.zip")
    assert response.status_code == 503
    text = response.content.decode()
    assert "cannot find this file" in text and "need not make a new request" in text
    assert "Make a new privacy request" not in text
    missing = AuditEvent.objects.get(action="export_file_missing")
    assert missing.object_id == str(export.pk) and missing.detail == {"part": "package.zip"}
    assert not AuditEvent.objects.filter(action="export_downloaded").exists()
