"""Filing a privacy request on a person's behalf, and following it: the DSAR services, with
the identity check said, the deadline, the flood limit."""

import uuid

import pytest
from django.core import mail

from api.models import Scope
from dsar.models import AuditEvent, DataSubjectRequest
from tests.accounts.factories import UserFactory

from .conftest import problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def filer(make_client):
    return make_client(Scope.REQUESTS_WRITE, Scope.REQUESTS_READ, name="Support desk")[1]


def file(call, token, subject, **fields):
    body = {"subject": subject, "kind": "access", "identity_check": "account_login", **fields}
    return call(token, "post", "/requests", json=body)


def test_a_signed_in_account_holder_s_request_is_received_with_its_deadline(
    call, filer, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = file(call, filer, {"user_id": user.pk}, details="From the help centre")
    assert response.status_code == 201, response.content
    body = response.json()
    request = DataSubjectRequest.objects.get(public_id=body["id"])
    assert request.user == user and request.state == "verified"
    assert body["state"] == "verified" and body["reference"] == request.reference
    assert body["due_at"] is not None and body["joined"] is False
    assert request.due_at.isoformat().startswith(body["due_at"][:16])
    assert any(user.email in m.to for m in mail.outbox)  # the "received" mail
    audited = AuditEvent.objects.get(action="api_request_filed")
    assert audited.detail["identity_check"] == "account_login"
    assert audited.object_id == str(request.pk)
    assert audited.subject_ref == f"user:{user.pk}"


def test_by_email_the_person_confirms_from_the_mailed_link(
    call, filer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = file(
            call,
            filer,
            {"email": "Someone@Example.org"},
            identity_check="email_link",
            kind="erasure",
        )
    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "awaiting_confirmation" and body["due_at"] is None
    assert "confirm" in body["next_step"].lower()
    request = DataSubjectRequest.objects.get(public_id=body["id"])
    assert request.user is None and request.email.lower() == "someone@example.org"
    assert mail.outbox and "someone@example.org" in mail.outbox[-1].to[0].lower()
    assert "/privacy/requests/confirm/" in mail.outbox[-1].body


def test_filing_again_joins_the_open_request(call, filer, user):
    first = file(call, filer, {"user_id": user.pk}).json()
    again = file(call, filer, {"user_id": user.pk}).json()
    assert again["id"] == first["id"] and again["joined"] is True
    assert DataSubjectRequest.objects.count() == 1


def test_the_flood_limit_of_the_portal_applies(call, filer, settings):
    settings.PORTAL_RATE_LIMITS = {
        **settings.PORTAL_RATE_LIMITS,
        "dsar_request": "1/h/key",
        "dsar_request_ip": "1/h/ip",
    }
    person = UserFactory()
    kinds = ["access", "portability"]
    assert file(call, filer, {"user_id": person.pk}, kind="access").status_code == 201
    # Many addresses from the one server of the calling system: not an IP flood.
    for n in range(3):
        assert (
            file(
                call, filer, {"email": f"p{n}@example.org"}, identity_check="email_link"
            ).status_code
            == 201
        )
    DataSubjectRequest.objects.filter(user=person).update(state="completed", outcome="done")
    refused = file(call, filer, {"user_id": person.pk}, kind=kinds[0])
    problem(refused, 429)
    assert int(refused["Retry-After"]) > 0


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "nosuchkind"},
        {"kind": "Access"},
        {"identity_check": "trust_me"},
        {"purposes": ["newsletter"]},  # uses only for a restriction or an objection
        {"kind": "objection", "purposes": ["nosuchuse"]},
        {"country": "Germany"},
        {"details": "x" * 5001},
        {"details": "a\x00b"},
    ],
)
def test_bad_requests_are_400_and_file_nothing(call, filer, user, fields):
    problem(file(call, filer, {"user_id": user.pk}, **fields), 400)
    assert not DataSubjectRequest.objects.exists()


def test_an_account_login_needs_an_account(call, filer):
    problem(file(call, filer, {"email": "someone@example.org"}), 400)
    problem(file(call, filer, {"user_id": 10**12}), 404)
    assert not DataSubjectRequest.objects.exists()


def test_reading_a_request_s_state_and_deadline(call, filer, user):
    filed = file(call, filer, {"user_id": user.pk}).json()
    body = call(filer, "get", f"/requests/{filed['id']}").json()
    assert body == {**filed, "joined": False}
    assert body["extended"] is False and body["state_label"]
    assert AuditEvent.objects.filter(action="api_request_read").count() == 1
    problem(call(filer, "get", f"/requests/{uuid.uuid4()}"), 404)
    problem(call(filer, "get", "/requests/not-a-uuid"), 400)


def test_requests_need_their_scopes(call, make_client, user):
    _c, writer_only = make_client(Scope.REQUESTS_WRITE)
    _c, reader_only = make_client(Scope.REQUESTS_READ, Scope.CONSENT_WRITE)
    filed = file(call, writer_only, {"user_id": user.pk}).json()
    problem(call(writer_only, "get", f"/requests/{filed['id']}"), 403)
    problem(file(call, reader_only, {"user_id": user.pk}, kind="erasure"), 403)
    assert DataSubjectRequest.objects.count() == 1
