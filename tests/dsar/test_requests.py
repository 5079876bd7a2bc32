import re
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from dsar import selectors, services
from dsar.deadlines import add_months, due_after_receipt
from dsar.models import (
    AuditEvent,
    DataSubjectRequest,
    RequestEvent,
    RequestKind,
    RequestState,
)
from dsar.registry import Subject
from tests.accounts.factories import UserFactory
from tests.mail_backends import url_path


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2026-01-31", "2026-02-28"),
        ("2028-01-31", "2028-02-29"),  # leap year
        ("2028-02-29", "2028-03-29"),
        ("2026-03-31", "2026-04-30"),
        ("2026-12-15", "2027-01-15"),  # across the year end
        ("2026-08-31", "2026-09-30"),
    ],
)
def test_one_calendar_month(start, expected):
    moment = datetime.fromisoformat(start).replace(hour=10, tzinfo=UTC)
    assert add_months(moment, 1).date().isoformat() == expected


def test_the_clock_can_pause_until_identity_is_confirmed():
    received = datetime(2026, 1, 31, 9, tzinfo=UTC)
    verified = received + timedelta(days=3)
    assert due_after_receipt(received_at=received, verified_at=None, pauses=False).day == 28
    assert due_after_receipt(received_at=received, verified_at=None, pauses=True) is None
    paused = due_after_receipt(received_at=received, verified_at=verified, pauses=True)
    assert paused == datetime(2026, 3, 3, 9, tzinfo=UTC)


def file_as(user, kind=RequestKind.ACCESS, **kwargs):
    return services.dsar_request_file(kind=kind, user=user, **kwargs)


@pytest.mark.django_db
def test_account_holder_request_is_verified_and_due_in_a_month(
    user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request, joined = file_as(user, details="Everything please")
    assert not joined
    assert request.state == RequestState.VERIFIED
    assert request.due_at == add_months(request.received_at, 1)
    assert len(mail.outbox) == 1 and user.email in mail.outbox[0].to
    assert request.reference in mail.outbox[0].subject
    assert AuditEvent.objects.filter(action="request_filed", subject_ref=f"user:{user.pk}").exists()


@pytest.mark.django_db
def test_a_duplicate_open_request_is_joined(user):
    first, _ = file_as(user)
    second, joined = file_as(user, details="again")
    assert joined and second == first
    assert DataSubjectRequest.objects.count() == 1
    assert first.events.filter(kind=RequestEvent.Kind.JOINED, text="again").exists()
    other_kind, joined = file_as(user, kind=RequestKind.PORTABILITY)
    assert not joined and DataSubjectRequest.objects.count() == 2


@pytest.mark.django_db
def test_email_only_request_needs_confirmation(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/privacy/requests/new/",
            {"email": "walk-in@example.com", "kind": "access", "details": "hello"},
        )
    assert response.status_code == 200 and "Check your email" in response.content.decode()
    request = DataSubjectRequest.objects.get()
    assert request.state == RequestState.AWAITING_CONFIRMATION and request.due_at is None
    link = re.search(r"http://\S+/privacy/requests/confirm/\S+/", mail.outbox[0].body).group(0)
    path = url_path(link)

    assert client.get(path).status_code == 200  # a scanner following the link changes nothing
    request.refresh_from_db()
    assert request.state == RequestState.AWAITING_CONFIRMATION

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path)
    assert response.status_code == 302
    request.refresh_from_db()
    # Following the mailed link proves the address is theirs: received and identity confirmed.
    assert request.state == RequestState.VERIFIED and request.due_at
    assert request.verified_at and request.received_at
    detail = client.get(response["Location"])
    assert detail.status_code == 200 and request.reference in detail.content.decode()
    assert "Identity confirmed" in detail.content.decode()
    client.post(path)  # confirming twice changes nothing
    assert request.events.filter(to_state=RequestState.RECEIVED).count() == 1
    assert request.events.filter(to_state=RequestState.VERIFIED).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["forged", "x" * 80, "eyJ.abc:def"])
def test_forged_confirmation_changes_nothing(client, token):
    request, _ = services.dsar_request_file(kind="access", email="a@example.com")
    response = client.post(f"/privacy/requests/confirm/{token}/")
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    request.refresh_from_db()
    assert request.state == RequestState.AWAITING_CONFIRMATION


@pytest.mark.django_db
def test_expired_confirmation_is_refused(client, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.dsar_request_file(kind="access", email="late@example.com")
    token = re.search(r"/confirm/(\S+)/", mail.outbox[0].body).group(1)
    settings.DSAR_CONFIRMATION_DAYS = 0
    response = client.post(f"/privacy/requests/confirm/{token}/")
    assert response.status_code == 400 and "expired" in response.content.decode()


@pytest.mark.django_db
def test_unconfirmed_requests_lapse_after_7_days_and_keep_no_data():
    request, _ = services.dsar_request_file(
        kind="erasure", email="never@example.com", details="my secret details"
    )
    assert services.dsar_requests_lapse_unconfirmed() == 0
    later = timezone.now() + timedelta(days=7, minutes=1)
    assert services.dsar_requests_lapse_unconfirmed(now=later) == 1
    request.refresh_from_db()
    assert request.state == RequestState.LAPSED
    assert (request.email, request.details) == ("", "")
    assert not RequestEvent.objects.filter(request=request, text__contains="secret").exists()


@pytest.mark.django_db
def test_state_machine_refuses_illegal_moves_and_needs_a_reason_to_reject(user):
    request, _ = file_as(user)
    with pytest.raises(services.RequestError, match="cannot become"):
        services.dsar_request_transition(request=request, to_state="completed", actor=None)
    with pytest.raises(services.RequestError, match="Say why"):
        services.dsar_request_transition(request=request, to_state="rejected", actor=None)
    request.refresh_from_db()
    assert request.state == RequestState.VERIFIED


@pytest.mark.django_db
def test_every_transition_is_mailed_and_audited(user, django_capture_on_commit_callbacks):
    request, _ = file_as(user)
    officer = UserFactory(is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.dsar_request_transition(request=request, to_state="in_progress", actor=officer)
        services.dsar_request_transition(
            request=request, to_state="rejected", actor=officer, reason="Manifestly unfounded."
        )
    assert [m.subject for m in mail.outbox][-2:] == [
        f"Your privacy request {request.reference}: In progress",
        f"Your privacy request {request.reference}: Rejected",
    ]
    assert "Manifestly unfounded." in mail.outbox[-1].body
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"request_in_progress", "request_rejected"} <= actions
    request.refresh_from_db()
    assert request.closed_at and request.outcome == "Manifestly unfounded."


@pytest.mark.django_db
def test_extension_rules(user, django_capture_on_commit_callbacks):
    request, _ = file_as(user)
    for too_much in (3, 0, -1):
        with pytest.raises(services.RequestError, match="between 1 and 2 months"):
            services.dsar_request_extend(
                request=request, amount=too_much, reason="busy", actor=None
            )
    with pytest.raises(services.RequestError, match="reason"):
        services.dsar_request_extend(request=request, amount=2, reason=" ", actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        services.dsar_request_extend(request=request, amount=2, reason="Complex.", actor=None)
    request.refresh_from_db()
    assert request.due_at == add_months(request.original_due_at, 2)
    assert "Complex." in mail.outbox[-1].body
    with pytest.raises(services.RequestError, match="once"):
        services.dsar_request_extend(request=request, amount=1, reason="again", actor=None)


@pytest.mark.django_db
def test_extension_only_within_the_first_month(user):
    request, _ = file_as(user)
    DataSubjectRequest.objects.filter(pk=request.pk).update(
        original_due_at=timezone.now() - timedelta(minutes=1)
    )
    request.refresh_from_db()
    with pytest.raises(services.RequestError, match="before the first deadline"):
        services.dsar_request_extend(request=request, amount=1, reason="late", actor=None)


@pytest.mark.django_db
def test_objection_to_direct_marketing_takes_effect_at_once(user):
    file_as(user, kind=RequestKind.OBJECTION, purposes=["all"])
    assert selectors.subject_processing_blocked(
        subject=Subject(user_id=user.pk), uses=["newsletter", "direct_marketing"]
    )
    assert not selectors.subject_processing_blocked(
        subject=Subject(user_id=user.pk), uses=["behaviour_analytics"]
    )


@pytest.mark.django_db
def test_other_objections_wait_for_an_officer(user):
    file_as(user, kind=RequestKind.OBJECTION, purposes=["behaviour_analytics"])
    assert not selectors.subject_processing_blocked(
        subject=Subject(user_id=user.pk), uses=["behaviour_analytics"]
    )


@pytest.mark.django_db
def test_complaint_names_the_authority_or_says_there_is_none(user_client, user):
    response = user_client.post(
        "/privacy/requests/new/", {"kind": "complaint", "country": "IE", "details": "x"}
    )
    page = user_client.get(response["Location"]).content.decode()
    assert "Data Protection Commission" in page and "https://www.dataprotection.ie/" in page
    response = user_client.post("/privacy/requests/new/", {"kind": "complaint", "country": "US"})
    request = DataSubjectRequest.objects.get(kind="complaint")  # joined, so still one
    request.country = "US"
    request.save()
    page = user_client.get(f"/privacy/requests/{request.public_id}/").content.decode()
    assert "no data protection supervisory authority that we know of" in page


@pytest.mark.django_db
def test_complaint_needs_a_country(user_client):
    response = user_client.post("/privacy/requests/new/", {"kind": "complaint", "country": ""})
    assert "Choose your country" in response.content.decode()
    assert not DataSubjectRequest.objects.exists()


@pytest.mark.django_db
def test_nobody_else_sees_or_withdraws_a_request(client, user):
    request, _ = file_as(user)
    stranger = UserFactory()
    client.force_login(stranger)
    assert client.get(f"/privacy/requests/{request.public_id}/").status_code == 404
    assert client.post(f"/privacy/requests/{request.public_id}/withdraw/").status_code == 404
    client.logout()
    assert client.get(f"/privacy/requests/{request.public_id}/").status_code == 404
    assert client.get(f"/privacy/requests/{request.public_id}/?t=forged").status_code == 404
    request.refresh_from_db()
    assert request.state == RequestState.VERIFIED
    assert request.reference not in client.get("/privacy/", follow=True).content.decode()


@pytest.mark.django_db
def test_the_owner_withdraws_and_sees_it_on_the_dashboard(user_client, user):
    request, _ = file_as(user)
    response = user_client.post(f"/privacy/requests/{request.public_id}/withdraw/")
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.state == RequestState.WITHDRAWN
    page = user_client.get("/privacy/").content.decode()
    assert request.reference in page and "Withdrawn by you" in page


@pytest.mark.django_db
def test_filing_again_what_is_open_is_joined_and_not_limited(client):
    """Issue 14, point 9: joined duplicates do not count, and other kinds are first filings."""
    for _ in range(5):
        client.post("/privacy/requests/new/", {"email": "spam@example.com", "kind": "access"})
    response = client.post(
        "/privacy/requests/new/", {"email": "spam@example.com", "kind": "erasure"}
    )
    assert response.status_code == 200 and "Check your email" in response.content.decode()
    assert DataSubjectRequest.objects.filter(kind="access").count() == 1
    assert DataSubjectRequest.objects.filter(kind="erasure").exists()


@pytest.mark.django_db
def test_the_email_only_form_does_not_reveal_accounts(client, user):
    known = client.post("/privacy/requests/new/", {"email": user.email, "kind": "access"})
    unknown = client.post(
        "/privacy/requests/new/", {"email": "nobody@example.com", "kind": "access"}
    )
    assert known.status_code == unknown.status_code == 200
    token = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')
    assert token.sub(b"", known.content) == token.sub(b"", unknown.content)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [{"kind": "nonsense"}, {}, {"kind": "access", "email": "not-an-email"}, {"kind": ["a", "b"]}],
)
def test_bad_input_is_refused_and_stores_nothing(client, data):
    response = client.post("/privacy/requests/new/", data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "is-invalid" in page or "This field is required." in page
    assert not DataSubjectRequest.objects.exists()


@pytest.mark.django_db
def test_assignee_is_reminded_once_before_the_due_date(
    user, make_staff, django_capture_on_commit_callbacks
):
    officer, _ = make_staff()
    request, _ = file_as(user)
    services.dsar_request_assign(request=request, assignee=officer, actor=None)
    assert services.dsar_reminders_send() == 0  # due in a month: too early
    later = request.due_at - timedelta(days=4)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.dsar_reminders_send(now=later) == 1
    assert services.dsar_reminders_send(now=later) == 0
    assert mail.outbox[-1].to == [officer.email]
    assert request.reference in mail.outbox[-1].subject


@pytest.mark.django_db
def test_reminders_go_out_batch_after_batch_each_once(
    make_staff, django_capture_on_commit_callbacks
):
    officer, _ = make_staff()
    requests = [file_as(UserFactory())[0] for _ in range(5)]
    for request in requests:
        services.dsar_request_assign(request=request, assignee=officer, actor=None)
    later = max(request.due_at for request in requests) - timedelta(days=4)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.dsar_reminders_send(now=later, batch_size=2) == 5
    assert len(mail.outbox) == 5
    for request in requests:  # each assignee's reminder once, whichever batch it was in
        assert sum(request.reference in message.subject for message in mail.outbox) == 1
    assert services.dsar_reminders_send(now=later, batch_size=2) == 0


@pytest.mark.django_db
def test_officers_are_told_about_unassigned_requests(
    user, make_staff, django_capture_on_commit_callbacks
):
    officer, _ = make_staff()
    request, _ = file_as(user)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.dsar_unassigned_nag() == 1
    assert officer.email in mail.outbox[-1].to
    assert request.reference in mail.outbox[-1].body


# --- The extension, at its edges (docs/mutation.md) ---------------------------------------------


def assert_not_extended(request, due_at):
    request.refresh_from_db()
    assert request.extended_at is None and request.extension_reason == ""
    assert request.due_at == due_at
    assert not request.events.filter(kind="extension").exists()
    assert not AuditEvent.objects.filter(action="request_extended").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("months", [0, -1])
def test_a_zero_or_negative_month_extension_is_refused_and_leaves_the_extension_unused(
    user, months
):
    request, _ = file_as(user)
    due_at = request.due_at
    with pytest.raises(services.RequestError, match="between 1 and 2 months"):
        services.dsar_request_extend(request=request, amount=months, reason="Busy.", actor=None)
    assert_not_extended(request, due_at)
    # The one extension is still there to use.
    services.dsar_request_extend(request=request, amount=1, reason="Complex.", actor=None)
    request.refresh_from_db()
    assert request.due_at == add_months(request.original_due_at, 1)


@pytest.mark.django_db
def test_a_one_month_extension_moves_the_deadline_one_month_from_the_original_one(
    user, django_capture_on_commit_callbacks
):
    request, _ = file_as(user)
    original = request.original_due_at
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        extended = services.dsar_request_extend(
            request=request, amount=1, reason="  Many systems.  ", actor=None
        )
    assert extended.due_at == add_months(original, 1)
    request.refresh_from_db()
    assert request.original_due_at == original
    assert request.due_at == add_months(original, 1)
    assert request.extended_at is not None and request.extension_reason == "Many systems."
    (event,) = request.events.filter(kind="extension")
    assert event.text == "Many systems."
    audit = AuditEvent.objects.get(action="request_extended")
    assert audit.detail["months"] == 1 and audit.reason == "Many systems."
    assert len(mail.outbox) == 1 and "Many systems." in mail.outbox[0].body


@pytest.mark.django_db
def test_an_extension_is_decided_before_the_original_deadline_not_at_it(user):
    request, _ = file_as(user)
    deadline = request.original_due_at
    with (
        mock.patch("django.utils.timezone.now", return_value=deadline),
        pytest.raises(services.RequestError, match="before the first deadline"),
    ):
        services.dsar_request_extend(request=request, amount=1, reason="Late.", actor=None)
    assert_not_extended(request, deadline)
    just_before = deadline - timedelta(microseconds=1)
    with mock.patch("django.utils.timezone.now", return_value=just_before):
        services.dsar_request_extend(request=request, amount=2, reason="In time.", actor=None)
    request.refresh_from_db()
    assert request.due_at == add_months(deadline, 2)
    assert request.extended_at == just_before


@pytest.mark.django_db
def test_a_closed_request_or_one_whose_clock_has_not_started_is_not_extended(user):
    request, _ = file_as(user)
    services.dsar_request_withdraw(request=request, user=user)
    due_at = DataSubjectRequest.objects.get(pk=request.pk).due_at
    with pytest.raises(services.RequestError, match="Only an open request"):
        services.dsar_request_extend(request=request, amount=1, reason="Busy.", actor=None)
    assert_not_extended(request, due_at)
    waiting, _ = file_as(UserFactory(username="waiting", email="waiting@example.org"))
    DataSubjectRequest.objects.filter(pk=waiting.pk).update(original_due_at=None, due_at=None)
    with pytest.raises(services.RequestError, match="not started"):
        services.dsar_request_extend(request=waiting, amount=1, reason="Busy.", actor=None)
    assert_not_extended(waiting, None)


@pytest.mark.django_db
def test_an_officer_s_extension_is_recorded_as_theirs_in_the_history_and_the_audit_log(user):
    officer = UserFactory(is_staff=True)
    request, _ = file_as(user)
    services.dsar_request_extend(request=request, amount=2, reason="Many systems.", actor=officer)
    (event,) = request.events.filter(kind="extension")
    assert event.actor == officer
    audit = AuditEvent.objects.get(action="request_extended")
    assert audit.actor == officer
    assert audit.subject_ref == f"user:{user.pk}"
    assert (audit.object_type, audit.object_id) == ("dsar.DataSubjectRequest", str(request.pk))
    assert audit.detail == {"months": 2, "rule": "gdpr"}


def _refusal(request, **kwargs) -> str:
    with pytest.raises(services.RequestError) as refused:
        services.dsar_request_extend(request=request, actor=None, **kwargs)
    return str(refused.value.messages[0] if hasattr(refused.value, "messages") else refused.value)


@pytest.mark.django_db
def test_each_refused_extension_says_why_in_full(user):
    request, _ = file_as(user)
    assert _refusal(request, amount=3, reason="Busy.") == (
        "Under GDPR an extension is between 1 and 2 months."
    )
    assert _refusal(request, amount=1, reason=" ") == (
        "Give the reason for the extension: the person is told it."
    )
    DataSubjectRequest.objects.filter(pk=request.pk).update(
        original_due_at=timezone.now() - timedelta(minutes=1)
    )
    assert _refusal(request, amount=1, reason="Late.") == (
        "An extension must be decided, and the person told, before the first deadline."
    )
    DataSubjectRequest.objects.filter(pk=request.pk).update(original_due_at=None)
    assert _refusal(request, amount=1, reason="Busy.") == (
        "The deadline has not started yet, so it cannot be extended."
    )
    other, _ = file_as(UserFactory(username="other", email="other@example.org"))
    services.dsar_request_extend(request=other, amount=1, reason="Busy.", actor=None)
    assert _refusal(other, amount=1, reason="Again.") == (
        "This request has been extended already; it can be extended once."
    )
    services.dsar_request_withdraw(request=other, user=other.user)
    assert _refusal(other, amount=1, reason="Busy.") == "Only an open request can be extended."
