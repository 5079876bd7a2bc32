"""Exports recover: a failed build is retried by the sweep with backoff up to a cap, then waits
for an officer's Retry; the officer and the person are told in plain words; redaction only takes
what the package exports; no state of a package stops its request from completing."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from dsar import services
from dsar.models import AuditEvent, ExportFile, RequestKind, RequestState
from dsar.services import exports as export_services
from dsar.services.exports import MAX_ATTEMPTS
from tests.accounts.factories import UserFactory
from tests.dsar.factories import ExportFileFactory

from .people import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    return make_person(
        username="ada",
        full_name="Ada Lovelace",
        phone="+353861234567",
        staff=UserFactory(is_staff=True),
    )


def in_progress(user, kind=RequestKind.ACCESS, assignee=None):
    request, _ = services.dsar_request_file(kind=kind, user=user)
    request = services.dsar_request_transition(request=request, to_state="in_progress", actor=None)
    if assignee is not None:
        services.dsar_request_assign(request=request, assignee=assignee, actor=None)
    return request


@pytest.fixture
def broken(monkeypatch):
    """Builds fail (the disk is full) until `broken.fix()`."""

    real = export_services.access_report_write

    def fail(**kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export_services, "access_report_write", fail)

    class Switch:
        @staticmethod
        def fix():
            monkeypatch.setattr(export_services, "access_report_write", real)

    return Switch


def act(client, request, **data):
    return client.post(f"/admin/dsar/datasubjectrequest/{request.pk}/act/", data, follow=True)


def report_of(export):
    export.refresh_from_db()
    with export.data_file.open("rb") as handle:
        return json.loads(handle.read())


def test_a_failed_build_is_retried_by_the_sweep_with_backoff_then_left_for_an_officer(user, broken):
    request = in_progress(user)
    services.dsar_request_apply(request=request, actor=None)
    export = request.exports.get()
    assert not services.export_build(export_id=export.pk)
    export.refresh_from_db()
    assert export.state == "failed" and export.attempts == 1
    assert "No space left on device" in export.error
    first_retry = export.next_attempt_at
    assert first_retry > timezone.now()
    # A stray message before the retry is due does nothing; the sweep does not send one yet.
    assert not services.export_build(export_id=export.pk)
    assert services.exports_sweep()["woken"] == 0

    delays = []
    now = timezone.now()
    for attempt in range(2, MAX_ATTEMPTS + 1):
        export.refresh_from_db()
        delays.append(export.next_attempt_at - now)
        now = export.next_attempt_at + timedelta(seconds=1)
        assert services.exports_sweep(now=now)["woken"] == 1
        ExportFile.objects.filter(pk=export.pk).update(next_attempt_at=timezone.now())
        assert not services.export_build(export_id=export.pk)
        export.refresh_from_db()
        assert export.attempts == attempt
        now = timezone.now()
    assert delays == sorted(delays) and delays[0] < delays[-1]  # backoff grows
    # Past the cap: failed, not retried any more, waiting for an officer.
    assert export.state == "failed" and export.next_attempt_at is None
    later = timezone.now() + timedelta(days=2)
    assert services.exports_sweep(now=later)["woken"] == 0
    ExportFile.objects.filter(pk=export.pk).update(next_attempt_at=timezone.now())
    assert not services.export_build(export_id=export.pk)
    export.refresh_from_db()
    assert export.attempts == MAX_ATTEMPTS


def test_the_officer_sees_plain_words_and_retries(officer_client, person, broken):
    request = in_progress(person.user, assignee=officer_client.officer)
    act(officer_client, request, action="apply")
    export = request.exports.get()
    services.export_build(export_id=export.pk)
    ExportFile.objects.filter(pk=export.pk).update(attempts=MAX_ATTEMPTS, next_attempt_at=None)

    page = officer_client.get(f"/admin/dsar/datasubjectrequest/{request.pk}/change/")
    text = page.content.decode()
    assert f"The build failed {MAX_ATTEMPTS} times and is no longer tried automatically" in text
    # The Python exception is there for the technical team, folded away.
    summary = text.index("<summary>Technical detail")
    assert text.index("<details>", summary - 30) < summary < text.index("OSError")
    assert text.index("OSError") > text.index("no longer tried automatically")
    assert 'value="retry_export"' in text
    listing = officer_client.get("/admin/dsar/exportfile/").content.decode()
    assert "no longer tried automatically" in listing

    broken.fix()
    with_retry = act(officer_client, request, action="retry_export", export=str(export.pk))
    assert "queued again" in with_retry.content.decode()
    export.refresh_from_db()
    assert export.state == "pending" and export.attempts == 0
    assert AuditEvent.objects.filter(action="export_retried", actor=officer_client.officer).exists()
    assert services.export_build(export_id=export.pk)
    report = report_of(export)
    assert report["subject"] == person.subject.ref
    assert "Ada Lovelace" in json.dumps(report)
    export.refresh_from_db()
    assert export.state == "ready" and export.error == ""

    refused = act(officer_client, request, action="retry_export", export=str(export.pk))
    assert "Only a package whose build failed can be retried" in refused.content.decode()


def test_pressing_build_again_on_a_failed_package_queues_it_again(
    officer_client, person, broken, django_capture_on_commit_callbacks
):
    request = in_progress(person.user, assignee=officer_client.officer)
    services.dsar_request_apply(request=request, actor=None)
    export = request.exports.get()
    services.export_build(export_id=export.pk)
    export.refresh_from_db()
    assert export.state == "failed"
    broken.fix()
    with django_capture_on_commit_callbacks() as callbacks:
        response = act(officer_client, request, action="apply")
    assert "The package is queued" in response.content.decode()
    assert callbacks  # a worker is woken
    assert request.exports.count() == 1
    export.refresh_from_db()
    assert export.state == "pending" and export.attempts == 0
    assert services.export_build(export_id=export.pk)


def test_the_person_is_told_of_a_delay_instead_of_in_progress_forever(user_client, user, broken):
    request = in_progress(user)
    services.dsar_request_apply(request=request, actor=None)
    page = user_client.get(f"/privacy/requests/{request.public_id}/").content.decode()
    assert "taking longer than usual" not in page
    services.export_build(export_id=request.exports.get().pk)
    page = user_client.get(f"/privacy/requests/{request.public_id}/").content.decode()
    assert "Your report is taking longer than usual" in page
    assert "you will get an email" in page
    assert "OSError" not in page and "No space" not in page


def test_redaction_takes_only_what_the_package_exports(officer_client, person):
    request = in_progress(person.user, assignee=officer_client.officer)
    services.dsar_request_apply(request=request, actor=None)
    export = request.exports.get()
    assert services.export_build(export_id=export.pk)
    page = officer_client.get(f"/admin/dsar/datasubjectrequest/{request.pk}/change/")
    text = page.content.decode()
    assert 'name="model" value="accounts.User"' in text
    assert 'name="fields" value="phone"' in text
    assert f'<option value="{person.user.pk}">' in text

    stranger = UserFactory()
    user_pk = str(person.user.pk)
    refused = [
        ({"model": "auth.Group", "row": "1", "fields": "name"}, "holds no data of the kind"),
        ({"model": "accounts.User", "row": str(stranger.pk), "fields": "phone"}, "is not in"),
        ({"model": "accounts.User", "row": "abc", "fields": "phone"}, "is not in"),
        ({"model": "accounts.User", "row": user_pk, "fields": "password"}, "Choose fields"),
        ({"model": "accounts.UserSession", "row": "x", "fields": "ip_address"}, "have no id"),
    ]
    for data, message in refused:
        response = act(
            officer_client,
            request,
            action="redact",
            export=str(export.pk),
            reason="Other people's data",
            **data,
        )
        assert message in response.content.decode(), data
        export.refresh_from_db()
        assert export.state == "ready" and export.redactions == {}, data

    response = act(
        officer_client,
        request,
        action="redact",
        export=str(export.pk),
        model="accounts.User",
        row=user_pk,
        fields=["phone", "full_name"],
        reason="A colleague's number was typed in",
    )
    export.refresh_from_db()
    assert export.redactions == {"accounts.User": {user_pk: ["full_name", "phone"]}}
    assert services.export_build(export_id=export.pk)
    report = report_of(export)
    [me] = [r for c in report["categories"] for r in c["records"] if r["model"] == "accounts.User"]
    assert me["fields"]["phone"] == me["fields"]["full_name"] == "[redacted]"
    assert me["fields"]["email"] == person.user.email


def test_a_package_deleted_after_release_does_not_block_completing_the_request(user):
    request = in_progress(user, RequestKind.PORTABILITY)
    services.dsar_request_apply(request=request, actor=None)
    export = request.exports.get()
    assert services.export_build(export_id=export.pk)
    # Another package (a rebuild that failed) beside the built one.
    ExportFileFactory(request=request, kind="portability", state="failed", attempts=5)
    services.export_release(export=export, actor=None)
    request.refresh_from_db()
    assert request.state == RequestState.COMPLETED

    other = in_progress(UserFactory(), RequestKind.PORTABILITY)
    services.dsar_request_apply(request=other, actor=None)
    package = other.exports.get()
    assert services.export_build(export_id=package.pk)
    ExportFile.objects.filter(pk=package.pk).update(state="released", released_at=timezone.now())
    ExportFile.objects.filter(pk=package.pk).update(expires_at=timezone.now() - timedelta(1))
    assert services.exports_sweep()["deleted"] == 1
    package.refresh_from_db()
    assert package.state == "deleted"
    assert services.request_completion_blockers(other) == []
    services.dsar_request_transition(request=other, to_state="completed", actor=None)


def test_a_failed_package_says_what_to_do_before_completion(user, broken):
    request = in_progress(user)
    services.dsar_request_apply(request=request, actor=None)
    services.export_build(export_id=request.exports.get().pk)
    assert services.request_completion_blockers(request) == [
        "The package could not be built: press Retry, or reject the request and tell the "
        "person why."
    ]
    services.dsar_request_transition(
        request=request, to_state="rejected", actor=None, reason="We could not build it."
    )


def test_a_portability_package_holds_the_persons_data(user_client, person):
    request = in_progress(person.user, RequestKind.PORTABILITY)
    services.dsar_request_apply(request=request, actor=None)
    export = request.exports.get()
    assert services.export_build(export_id=export.pk)
    services.export_release(export=export, actor=None)
    user_client.force_login(person.user)
    response = user_client.get(f"/privacy/exports/{export.public_id}/package.zip")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        account = json.loads(archive.read("account-and-profile.json"))
    [me] = [r for r in account["records"] if r["model"] == "accounts.User"]
    assert me["fields"]["full_name"] == "Ada Lovelace"
