"""The request lifecycle from outside: the person's pages, the officer's admin, the mails."""

import re
from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client
from django.utils import timezone

from dsar import services
from dsar.deadlines import CCPA, GDPR, UK_GDPR, deadline_rule_for
from dsar.models import AuditEvent, DataSubjectRequest, RequestEvent, RequestKind, RequestState
from tests.accounts.factories import UserFactory
from tests.conftest import login_with_totp
from tests.mail_backends import url_path

CHANGE = "/admin/dsar/datasubjectrequest/{}/change/"
ACT = "/admin/dsar/datasubjectrequest/{}/act/"


def file_for(user=None, kind=RequestKind.ACCESS, **kwargs):
    request, _ = services.dsar_request_file(kind=kind, user=user or UserFactory(), **kwargs)
    return request


def link_path(body: str, what: str) -> str:
    url = re.search(rf"http://\S+{what}\S*", body).group(0)
    return url_path(url)


# --- Deadlines per jurisdiction ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "region", "rule"),
    [
        ("DE", "", GDPR),
        ("IE", "", GDPR),
        ("NO", "", GDPR),  # EEA
        ("GB", "", UK_GDPR),
        ("GB", "SCT", UK_GDPR),  # a region without a rule of its own: the country's rule
        ("gb", "sct", UK_GDPR),
        ("DE", "BY", GDPR),
        ("US", "CA", CCPA),
        ("us", "ca", CCPA),
        ("US", "", GDPR),  # no state rule known: the shortest deadline applies
        ("US", "TX", GDPR),
        ("", "", GDPR),
    ],
)
def test_the_deadline_rule_follows_country_and_state(country, region, rule):
    assert deadline_rule_for(country=country, region=region) is rule


@pytest.mark.django_db
def test_a_californian_gets_45_days_and_at_most_45_more(
    client, user, django_capture_on_commit_callbacks
):
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/privacy/requests/new/", {"kind": "access", "country": "US", "region": "ca"}
        )
    assert response.status_code == 302
    request = DataSubjectRequest.objects.get()
    assert request.region == "CA"
    assert request.due_at == request.received_at + timedelta(days=45)
    page = client.get(response["Location"]).content.decode()
    assert "CCPA/CPRA" in page and "45 days from receipt" in page

    for refused in (0, 46):
        with pytest.raises(services.RequestError, match="between 1 and 45 days"):
            services.dsar_request_extend(
                request=request, amount=refused, reason="Many systems.", actor=None
            )
    with django_capture_on_commit_callbacks(execute=True):
        services.dsar_request_extend(request=request, amount=45, reason="Many systems.", actor=None)
    request.refresh_from_db()
    assert request.due_at == request.original_due_at + timedelta(days=45)
    # The person is told of the extension and its reason, before the first 45 days are over.
    assert request.extended_at < request.original_due_at
    assert "Many systems." in mail.outbox[-1].body
    assert request.reference in mail.outbox[-1].subject


@pytest.mark.django_db
def test_gdpr_extension_beyond_two_months_or_of_zero_is_refused_in_the_admin(officer_client):
    request = file_for(country="FR")
    before = request.due_at
    assert before == request.received_at + relativedelta(months=1)
    page = officer_client.get(CHANGE.format(request.pk)).content.decode()
    assert "Extend by (months)" in page and 'max="2"' in page
    for amount in ("3", "0", "x"):
        response = officer_client.post(
            ACT.format(request.pk),
            {"action": "extend", "amount": amount, "reason": "Complex."},
            follow=True,
        )
        assert "errornote" in response.content.decode() or "error" in response.content.decode()
        request.refresh_from_db()
        assert request.due_at == before and request.extended_at is None
    officer_client.post(
        ACT.format(request.pk), {"action": "extend", "amount": "2", "reason": "Complex."}
    )
    request.refresh_from_db()
    assert request.due_at == request.original_due_at + relativedelta(months=2)


@pytest.mark.django_db
def test_the_queue_shows_each_requests_deadline_rules(officer_client):
    uk = file_for(country="GB")
    ca = file_for(country="US", region="CA")
    page = officer_client.get("/admin/dsar/datasubjectrequest/").content.decode()
    assert "deadline rules" in page.lower()
    assert uk.reference in page and ca.reference in page
    assert "UK GDPR" in page and "CCPA/CPRA" in page


# --- Confirmation and the officer's moves ----------------------------------------------------


@pytest.mark.django_db
def test_confirming_an_email_request_confirms_the_identity(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/privacy/requests/new/", {"email": "walk@example.com", "kind": "erasure"})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(link_path(mail.outbox[0].body, "/privacy/requests/confirm/"))
    request = DataSubjectRequest.objects.get()
    assert request.state == RequestState.VERIFIED
    assert AuditEvent.objects.filter(action="request_verified", object_id=str(request.pk)).exists()
    page = client.get(response["Location"]).content.decode()
    assert "Identity confirmed" in page and "What happens next" in page
    assert "A privacy officer reviews your request" in page


@pytest.mark.django_db
def test_move_to_has_no_default_and_withdrawing_is_confirmed_first(
    officer_client, django_capture_on_commit_callbacks
):
    request = file_for()
    page = officer_client.get(CHANGE.format(request.pk)).content.decode()
    select = re.search(r'<select name="to_state".*?</select>', page, re.S).group(0)
    assert "required" in select
    assert re.search(r'<option value="" selected>', select)
    assert select.count("selected") == 1

    mail.outbox.clear()
    response = officer_client.post(
        ACT.format(request.pk), {"action": "transition", "to_state": "withdrawn"}
    )
    body = response.content.decode()
    assert response.status_code == 200 and "Yes, withdraw the request" in body
    assert 'name="confirmed" value="yes"' in body and "No, go back" in body
    request.refresh_from_db()
    assert request.state == RequestState.VERIFIED and not mail.outbox

    with django_capture_on_commit_callbacks(execute=True):
        officer_client.post(
            ACT.format(request.pk),
            {"action": "transition", "to_state": "withdrawn", "confirmed": "yes"},
        )
    request.refresh_from_db()
    assert request.state == RequestState.WITHDRAWN
    assert len(mail.outbox) == 1 and request.reference in mail.outbox[0].subject


@pytest.mark.django_db
def test_rejecting_is_confirmed_and_needs_a_reason(
    officer_client, django_capture_on_commit_callbacks
):
    request = file_for()
    response = officer_client.post(
        ACT.format(request.pk), {"action": "transition", "to_state": "rejected"}
    )
    body = response.content.decode()
    assert "Yes, reject the request" in body and 'aria-required="true"' in body
    response = officer_client.post(
        ACT.format(request.pk),
        {"action": "transition", "to_state": "rejected", "confirmed": "yes", "reason": " "},
    )
    assert response.status_code == 400 and 'role="alert"' in response.content.decode()
    request.refresh_from_db()
    assert request.state == RequestState.VERIFIED
    with django_capture_on_commit_callbacks(execute=True):
        officer_client.post(
            ACT.format(request.pk),
            {
                "action": "transition",
                "to_state": "rejected",
                "confirmed": "yes",
                "reason": "Manifestly excessive.",
            },
        )
    request.refresh_from_db()
    assert request.state == RequestState.REJECTED and request.outcome == "Manifestly excessive."
    assert "Manifestly excessive." in mail.outbox[-1].body


@pytest.mark.django_db
def test_starting_work_needs_no_confirmation(officer_client):
    request = file_for()
    officer_client.post(ACT.format(request.pk), {"action": "transition", "to_state": "in_progress"})
    request.refresh_from_db()
    assert request.state == RequestState.IN_PROGRESS


# --- Assignment --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_officer_assigns_a_colleague_who_is_told_and_it_is_audited(
    officer_client, make_staff, django_capture_on_commit_callbacks
):
    colleague, _ = make_staff("Privacy officer")
    helper, _ = make_staff("Support")
    helper.user_permissions.add(Permission.objects.get(codename="work_request"))
    plain_support, _ = make_staff("Support")
    request = file_for()
    page = officer_client.get(CHANGE.format(request.pk)).content.decode()
    select = re.search(r'<select name="assignee".*?</select>', page, re.S).group(0)
    assert colleague.username in select and helper.username in select
    assert plain_support.username not in select

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        officer_client.post(ACT.format(request.pk), {"action": "assign", "assignee": colleague.pk})
    request.refresh_from_db()
    assert request.assignee == colleague
    assert [m.to for m in mail.outbox] == [[colleague.email]]
    assert request.reference in mail.outbox[0].subject
    assert f"/admin/dsar/datasubjectrequest/{request.pk}/change/" in mail.outbox[0].body
    audit = AuditEvent.objects.get(action="request_assigned", object_id=str(request.pk))
    assert audit.actor == officer_client.officer and audit.detail["assignee"] == colleague.pk
    assert request.events.filter(kind=RequestEvent.Kind.ASSIGNMENT, internal=True).exists()

    # Someone not allowed to work requests cannot be assigned, from the page or the service.
    response = officer_client.post(
        ACT.format(request.pk), {"action": "assign", "assignee": plain_support.pk}
    )
    assert response.status_code == 404
    with pytest.raises(services.RequestError):
        services.dsar_request_assign(request=request, assignee=plain_support, actor=None)
    request.refresh_from_db()
    assert request.assignee == colleague

    officer_client.post(ACT.format(request.pk), {"action": "assign", "assignee": helper.pk})
    request.refresh_from_db()
    assert request.assignee == helper


@pytest.mark.django_db
def test_assigning_oneself_sends_no_mail(officer_client, django_capture_on_commit_callbacks):
    request = file_for()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        officer_client.post(ACT.format(request.pk), {"action": "assign_me"})
    request.refresh_from_db()
    assert request.assignee == officer_client.officer and not mail.outbox


@pytest.mark.django_db
def test_support_colleague_sees_their_assigned_requests(client, make_staff):
    helper, secret = make_staff("Support")
    helper.user_permissions.add(Permission.objects.get(codename="work_request"))
    helper = type(helper).objects.get(pk=helper.pk)
    mine, other = file_for(), file_for()
    services.dsar_request_assign(request=mine, assignee=helper, actor=None)
    login_with_totp(client, helper, secret)
    page = client.get("/admin/dsar/datasubjectrequest/?due=mine").content.decode()
    assert mine.reference in page and other.reference not in page


# --- Officer-logged requests -------------------------------------------------------------------


@pytest.mark.django_db
def test_officer_logs_a_letter_and_the_deadline_runs_from_the_day_received(
    officer_client, client, django_capture_on_commit_callbacks
):
    received_on = timezone.localdate() - timedelta(days=10)
    page = officer_client.get("/admin/dsar/datasubjectrequest/add/")
    assert page.status_code == 200 and "Date received" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(
            "/admin/dsar/datasubjectrequest/add/",
            {
                "kind": "access",
                "email": "letter@example.com",
                "channel": "letter",
                "received_on": received_on.isoformat(),
                "details": "Sent by post.",
                "country": "DE",
            },
        )
    request = DataSubjectRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == CHANGE.format(request.pk)
    assert request.channel == "letter" and request.state == RequestState.RECEIVED
    assert timezone.localtime(request.received_at).date() == received_on
    assert request.due_at == request.received_at + relativedelta(months=1)
    assert request.events.get(kind="filed").actor == officer_client.officer
    assert AuditEvent.objects.filter(action="request_logged", object_id=str(request.pk)).exists()

    (message,) = mail.outbox
    assert message.to == ["letter@example.com"] and request.reference in message.subject
    assert request.reference in message.body
    # The person can follow it, and confirm their identity, from the mail.
    follow = link_path(message.body, "/privacy/requests/" + str(request.public_id))
    page = client.get(follow).content.decode()
    assert request.reference in page and "We first confirm that the request is yours" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(link_path(message.body, "/privacy/requests/confirm/"))
    request.refresh_from_db()
    assert request.state == RequestState.VERIFIED
    assert timezone.localtime(request.received_at).date() == received_on  # the clock is kept


@pytest.mark.django_db
def test_a_phone_request_with_identity_confirmed_is_verified_at_once(
    officer_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        officer_client.post(
            "/admin/dsar/datasubjectrequest/add/",
            {
                "kind": "erasure",
                "email": "caller@example.com",
                "channel": "phone",
                "received_on": timezone.localdate().isoformat(),
                "identity_confirmed": "on",
            },
        )
    request = DataSubjectRequest.objects.get()
    assert request.state == RequestState.VERIFIED and request.channel == "phone"
    assert "/confirm/" not in mail.outbox[0].body


@pytest.mark.django_db
def test_logging_refuses_a_future_date_and_needs_the_permission(officer_client, make_staff):
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = officer_client.post(
        "/admin/dsar/datasubjectrequest/add/",
        {
            "kind": "access",
            "email": "x@example.com",
            "channel": "email",
            "received_on": tomorrow.isoformat(),
        },
    )
    assert response.status_code == 200 and "cannot be in the future" in response.content.decode()
    assert not DataSubjectRequest.objects.exists()

    support, secret = make_staff("Support")
    client = Client()
    login_with_totp(client, support, secret)
    assert client.get("/admin/dsar/datasubjectrequest/add/").status_code == 403
    with pytest.raises(services.RequestError):
        services.dsar_request_log(
            kind="access",
            email="x@example.com",
            channel="email",
            received_on=timezone.localdate(),
            actor=support,
        )


# --- Search by reference ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("form", ["{ref}", "{lower}", "{bare}", " {ref} "])
def test_admin_search_finds_the_mailed_reference(officer_client, form):
    request, other = file_for(), file_for()
    ref = request.reference
    term = form.format(ref=ref, lower=ref.lower(), bare=ref[2:].lower())
    page = officer_client.get("/admin/dsar/datasubjectrequest/", {"q": term}).content.decode()
    assert ref in page and other.reference not in page


# --- What happens next -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_request_page_says_what_happens_next_in_english_and_german(user_client, user):
    request = file_for(user, kind=RequestKind.ERASURE)
    url = f"/privacy/requests/{request.public_id}/"
    page = user_client.get(url).content.decode()
    assert "What happens next" in page and "A privacy officer reviews your request" in page
    assert request.due_at.strftime("%Y") in page

    request = services.dsar_request_transition(request=request, to_state="in_progress", actor=None)
    page = user_client.get(url).content.decode()
    assert "we wait 14 days so you can cancel it" in page

    services.dsar_request_apply(request=request, actor=None)
    page = user_client.get(url).content.decode()
    assert "Your erasure is approved" in page and "grace period" in page

    german = user_client.get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Wie es weitergeht" in german and "Karenzzeit" in german


@pytest.mark.django_db
def test_an_access_request_says_when_the_download_appears(user_client, user):
    request = file_for(user, kind=RequestKind.ACCESS)
    services.dsar_request_transition(request=request, to_state="in_progress", actor=None)
    page = user_client.get(f"/privacy/requests/{request.public_id}/").content.decode()
    assert "a download link appears on this page" in page
    german = user_client.get(
        f"/privacy/requests/{request.public_id}/", HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()
    assert "Downloadlink" in german


@pytest.mark.django_db
def test_a_closed_request_is_not_offered_for_confirmation(officer_client):
    request = file_for()
    services.dsar_request_withdraw(request=request, user=None)
    response = officer_client.post(
        ACT.format(request.pk), {"action": "transition", "to_state": "rejected"}, follow=True
    )
    assert "cannot become" in response.content.decode()
    assert "Yes, reject the request" not in response.content.decode()


@pytest.mark.django_db
def test_a_logged_restriction_names_the_uses_it_stops(officer_client):
    from dsar.purposes import processing_use_choices

    code = next(code for code, _label in processing_use_choices() if code != "all")
    officer_client.post(
        "/admin/dsar/datasubjectrequest/add/",
        {
            "kind": "restriction",
            "email": "restrict@example.com",
            "channel": "email",
            "received_on": timezone.localdate().isoformat(),
            "purposes": [code],
        },
    )
    officer_client.post(
        "/admin/dsar/datasubjectrequest/add/",
        {
            "kind": "access",
            "email": "access@example.com",
            "channel": "phone",
            "received_on": timezone.localdate().isoformat(),
            "purposes": [code],  # ticked, but an access request names no uses
        },
    )
    assert DataSubjectRequest.objects.get(kind="restriction").purposes == [code]
    assert DataSubjectRequest.objects.get(kind="access").purposes == []
