from datetime import date

import pytest
from django.core import mail

from dsar import services
from dsar.models import (
    AuditEvent,
    DataSubjectRequest,
    RecipientNotification,
    RectificationProposal,
    RequestKind,
)
from tests.conftest import login_with_totp

from . import adapters
from .test_restriction import PROVIDERS

DOB = "accounts.User.date_of_birth"
USERNAME = "accounts.User.username"


@pytest.fixture(autouse=True)
def providers(settings):
    settings.DSAR_SERVICE_PROVIDERS = PROVIDERS[:1]
    adapters.TOLD.clear()


def rectification(user, target=DOB, value="1985-02-03"):
    request, _ = services.dsar_request_file(
        kind=RequestKind.RECTIFICATION,
        user=user,
        rectification_target=target,
        rectification_value=value,
        details="My date of birth is wrong.",
    )
    return services.dsar_request_transition(request=request, to_state="in_progress", actor=None)


def file_on_the_web(client, target=DOB, value="1985-02-03", **extra):
    return client.post(
        "/privacy/requests/new/",
        {
            "kind": "rectification",
            "rectification_target": target,
            "rectification_value": value,
            **extra,
        },
    )


@pytest.mark.django_db
def test_an_approved_correction_is_applied_audited_and_passed_on(user):
    request = rectification(user)
    with pytest.raises(services.RequestError, match="Decide every proposed correction"):
        services.dsar_request_transition(request=request, to_state="completed", actor=None)
    proposal = request.rectifications.get()
    services.dsar_rectification_decide(proposal=proposal, approve=True, actor=None)
    user.refresh_from_db()
    assert user.date_of_birth == date(1985, 2, 3)
    assert AuditEvent.objects.filter(action="rectification_applied").exists()
    assert request.recipient_notifications.count() == 1
    with pytest.raises(services.RequestError, match="decided already"):
        services.dsar_rectification_decide(proposal=proposal, approve=True, actor=None)


# --- Checked when filed -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("target", "value", "message"),
    [
        (DOB, "1980-02-30", "is not a valid date of birth: Enter a valid date."),
        (DOB, "not a date", "is not a valid date of birth: Enter a valid date."),
        (USERNAME, "no spaces allowed", "Enter a valid username."),
        (USERNAME, "x" * 151, "at most 150 characters"),
    ],
)
def test_an_invalid_value_is_refused_on_the_form_and_nothing_is_stored(
    user_client, target, value, message
):
    response = file_on_the_web(user_client, target=target, value=value)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert not DataSubjectRequest.objects.exists()
    assert not RectificationProposal.objects.exists()


@pytest.mark.django_db
def test_an_invalid_value_is_refused_by_the_service_too(user):
    with pytest.raises(services.RequestError, match="not a valid date of birth"):
        services.dsar_request_file(
            kind=RequestKind.RECTIFICATION,
            user=user,
            rectification_target=DOB,
            rectification_value="1980-02-30",
        )
    assert not DataSubjectRequest.objects.exists()


@pytest.mark.django_db
def test_a_valid_value_is_stored_normalised_and_shown_to_the_person(user_client):
    response = file_on_the_web(user_client, value=" 1985-02-03 ")
    assert response.status_code == 302
    proposal = RectificationProposal.objects.get()
    assert (proposal.target, proposal.proposed_value) == (DOB, "1985-02-03")
    page = user_client.get(response["Location"]).content.decode()
    assert "The corrections you asked for" in page
    assert "date of birth" in page and "1985-02-03" in page and "Waiting for a decision" in page


@pytest.mark.django_db
def test_an_invalid_value_in_a_second_filing_changes_nothing(user):
    request = rectification(user)
    with pytest.raises(services.RequestError, match="not a valid"):
        services.dsar_request_file(
            kind=RequestKind.RECTIFICATION,
            user=user,
            rectification_target=DOB,
            rectification_value="1980-02-30",
        )
    assert [p.proposed_value for p in request.rectifications.all()] == ["1985-02-03"]


@pytest.mark.django_db
def test_only_listed_fields_can_be_proposed(user_client):
    response = file_on_the_web(user_client, target="accounts.User.is_superuser", value="True")
    assert "Select a valid choice" in response.content.decode()
    assert not RectificationProposal.objects.exists()
    with pytest.raises(services.RequestError, match="Choose a field"):
        services.rectification_value_check(target="accounts.User.is_superuser", value="True")


# --- A second request for the same field ----------------------------------------------------


@pytest.mark.django_db
def test_a_second_value_for_the_same_field_supersedes_the_pending_one_and_keeps_it(
    user_client, user
):
    first = file_on_the_web(user_client, value="1985-02-03")
    second = file_on_the_web(user_client, value="1985-03-02", details="Sorry, day and month.")
    assert first["Location"] == second["Location"]  # joined: one request
    request = DataSubjectRequest.objects.get()
    old, new = request.rectifications.all()
    assert (old.proposed_value, old.decision) == ("1985-02-03", "superseded")
    assert old.superseded_by == new
    assert (new.proposed_value, new.decision) == ("1985-03-02", "pending")
    page = user_client.get(second["Location"]).content.decode()
    assert "1985-02-03" in page and "1985-03-02" in page
    assert "Replaced by a later value you gave" in page
    assert AuditEvent.objects.filter(action="rectification_superseded").count() == 1

    # The officer decides the latest value only.
    services.dsar_request_transition(request=request, to_state="in_progress", actor=None)
    with pytest.raises(services.RequestError, match="later value"):
        services.dsar_rectification_decide(proposal=old, approve=True, actor=None)
    services.dsar_rectification_decide(proposal=new, approve=True, actor=None)
    user.refresh_from_db()
    assert user.date_of_birth == date(1985, 3, 2)
    services.recipient_notification_mark_done(
        notification=request.recipient_notifications.get(), actor=None
    )
    services.dsar_request_transition(request=request, to_state="completed", actor=None)


@pytest.mark.django_db
def test_the_same_value_again_changes_nothing_and_another_field_is_added(user_client):
    file_on_the_web(user_client, value="1985-02-03")
    file_on_the_web(user_client, value="1985-02-03")
    file_on_the_web(user_client, target=USERNAME, value="new_name")
    request = DataSubjectRequest.objects.get()
    assert [(p.target, p.proposed_value, p.decision) for p in request.rectifications.all()] == [
        (DOB, "1985-02-03", "pending"),
        (USERNAME, "new_name", "pending"),
    ]


@pytest.mark.django_db
def test_a_value_for_a_field_already_decided_is_a_new_proposal(user):
    request = rectification(user)
    proposal = request.rectifications.get()
    services.dsar_rectification_decide(
        proposal=proposal, approve=False, actor=None, reason="Our records show otherwise."
    )
    services.dsar_request_file(
        kind=RequestKind.RECTIFICATION,
        user=user,
        rectification_target=DOB,
        rectification_value="1985-02-04",
    )
    assert [p.decision for p in request.rectifications.all()] == ["rejected", "pending"]


# --- What the officer sees ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_officer_sees_current_and_proposed_values_side_by_side_and_it_is_audited(
    officer_client, user
):
    request = rectification(user)
    services.dsar_request_file(
        kind=RequestKind.RECTIFICATION,
        user=user,
        rectification_target=DOB,
        rectification_value="1985-03-02",
    )
    page = officer_client.get(f"/admin/dsar/datasubjectrequest/{request.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert '<td class="current-value">1990-01-15</td>' in html
    assert '<td class="proposed-value">1985-03-02</td>' in html
    assert "Proposed corrections (history)" in html and "1985-02-03" in html  # superseded
    viewed = AuditEvent.objects.get(action="staff_viewed_current_values")
    assert viewed.actor == officer_client.officer
    assert viewed.subject_ref == f"user:{user.pk}" and request.reference in viewed.reason
    assert viewed.detail == {"targets": [DOB]}


@pytest.mark.django_db
def test_support_staff_do_not_see_the_current_value(client, make_staff, user):
    request = rectification(user)
    support, secret = make_staff("Support")
    login_with_totp(client, support, secret)
    # Support without the permission to work requests cannot even be assigned one (lifecycle),
    # so the request, and the value held now, stay out of their sight.
    with pytest.raises(services.RequestError):
        services.dsar_request_assign(request=request, assignee=support, actor=None)
    page = client.get(f"/admin/dsar/datasubjectrequest/{request.pk}/change/")
    assert page.status_code in (200, 302, 403, 404)
    assert "current-value" not in page.content.decode()
    assert not AuditEvent.objects.filter(action="staff_viewed_current_values").exists()


@pytest.mark.django_db
def test_the_officer_applies_a_correction_from_the_admin(officer_client, user):
    request = rectification(user)
    proposal = request.rectifications.get()
    act = f"/admin/dsar/datasubjectrequest/{request.pk}/act/"
    officer_client.post(act, {"action": "rectify_apply", "proposal": proposal.pk})
    user.refresh_from_db()
    assert user.date_of_birth == date(1985, 2, 3)


# --- Art. 19: the recipients that hold the field, told what changed ------------------------


HOLDERS = [
    {
        "key": "crm",
        "name": "CRM provider",
        "adapter": "tests.dsar.adapters.RecordingAdapter",
        "holds": [DOB, USERNAME],
    },
    {
        "key": "mailer",
        "name": "Mail provider",
        "adapter": "dsar.recipients.MailAdapter",
        "contact": "privacy@mailer.example",
        "holds": ["accounts.User.email", USERNAME],
    },
    {"key": "billing", "name": "Billing", "adapter": "", "holds": ["accounts.Invoice"]},
    {"key": "printer", "name": "Print shop", "adapter": ""},  # undeclared: told of everything
]


@pytest.mark.django_db
def test_the_notice_names_the_field_and_value_and_goes_only_to_those_holding_it(
    user, settings, django_capture_on_commit_callbacks
):
    settings.DSAR_SERVICE_PROVIDERS = HOLDERS
    request = rectification(user)
    services.dsar_request_file(
        kind=RequestKind.RECTIFICATION,
        user=user,
        rectification_target=USERNAME,
        rectification_value="better_name",
    )
    dob, username = request.rectifications.all()
    with django_capture_on_commit_callbacks(execute=True):
        services.dsar_rectification_decide(proposal=dob, approve=True, actor=None)
    told = {n.recipient_key for n in RecipientNotification.objects.filter(rectification=dob)}
    assert told == {"crm", "printer"}

    with django_capture_on_commit_callbacks(execute=True):
        services.dsar_rectification_decide(proposal=username, approve=True, actor=None)
    told = {n.recipient_key for n in RecipientNotification.objects.filter(rectification=username)}
    assert told == {"crm", "mailer", "printer"}

    with django_capture_on_commit_callbacks(execute=True):
        for notification in request.recipient_notifications.exclude(adapter=""):
            services.recipient_notification_send(notification_id=notification.pk)
    corrections = sorted(
        (t["correction"].target, t["correction"].value, t["correction"].field)
        for t in adapters.TOLD
    )
    assert corrections == [
        (DOB, "1985-02-03", "date of birth"),
        (USERNAME, "better_name", "username"),
    ]
    (notice,) = [m for m in mail.outbox if m.to == ["privacy@mailer.example"]]
    assert "username (accounts.User.username) is now: better_name" in notice.body
    assert "apply the same" not in notice.body
    assert user.email in notice.body and request.reference in notice.subject


@pytest.mark.django_db
def test_the_notice_to_be_given_by_hand_says_what_changed(officer_client, user, settings):
    settings.DSAR_SERVICE_PROVIDERS = HOLDERS[2:]
    request = rectification(user)
    services.dsar_rectification_decide(
        proposal=request.rectifications.get(), approve=True, actor=None
    )
    assert [n.recipient_key for n in request.recipient_notifications.all()] == ["printer"]
    html = officer_client.get(f"/admin/dsar/datasubjectrequest/{request.pk}/change/").content
    assert f"{DOB} is corrected to “1985-02-03”".encode() in html


@pytest.mark.django_db
def test_the_portal_s_own_recipients_are_told_only_of_fields_they_hold(user, settings):
    """With the configured providers: a date of birth goes to neither the mail nor the payment
    provider; a username goes to the mail provider (our mails greet people by it)."""
    from workpex_portal.settings import base

    settings.DSAR_SERVICE_PROVIDERS = base.DSAR_SERVICE_PROVIDERS
    request = rectification(user)
    services.dsar_request_file(
        kind=RequestKind.RECTIFICATION,
        user=user,
        rectification_target=USERNAME,
        rectification_value="better_name",
    )
    dob, username = request.rectifications.all()
    services.dsar_rectification_decide(proposal=dob, approve=True, actor=None)
    assert not RecipientNotification.objects.filter(rectification=dob).exists()
    services.dsar_rectification_decide(proposal=username, approve=True, actor=None)
    assert [n.recipient_key for n in username.recipient_notifications.all()] == ["email-delivery"]


@pytest.mark.django_db
def test_erasure_and_restriction_still_tell_each_recipient_once(user):
    request, _ = services.dsar_request_file(
        kind=RequestKind.RESTRICTION, user=user, purposes=["all"]
    )
    services.recipient_notifications_create(request=request)
    services.recipient_notifications_create(request=request)
    assert request.recipient_notifications.count() == 1


@pytest.mark.django_db
def test_a_rejection_needs_a_reason(user):
    proposal = rectification(user).rectifications.get()
    with pytest.raises(services.RequestError, match="Say why"):
        services.dsar_rectification_decide(proposal=proposal, approve=False, actor=None)
    services.dsar_rectification_decide(
        proposal=proposal, approve=False, actor=None, reason="Our records show otherwise."
    )
    proposal.refresh_from_db()
    assert proposal.decision == "rejected"


@pytest.mark.django_db
def test_a_person_without_an_account_sees_no_current_value(officer_client):
    request, _ = services.dsar_request_file(
        kind=RequestKind.RECTIFICATION,
        email="someone@example.com",
        rectification_target=DOB,
        rectification_value="1985-02-03",
    )
    html = officer_client.get(f"/admin/dsar/datasubjectrequest/{request.pk}/change/").content
    assert '<td class="current-value">—</td>'.encode() in html


@pytest.mark.django_db
def test_an_invalid_value_is_explained_in_german(user_client, user):
    user.language = "de"
    user.save(update_fields=["language"])
    response = file_on_the_web(user_client, value="1980-02-30")
    page = response.content.decode()
    assert "„1980-02-30“ ist kein gültiger Wert für" in page
    assert not DataSubjectRequest.objects.exists()


@pytest.mark.django_db
def test_an_unconfirmed_request_lapses_without_keeping_the_proposed_value():
    from datetime import timedelta

    from django.utils import timezone

    services.dsar_request_file(
        kind=RequestKind.RECTIFICATION,
        email="someone@example.com",
        rectification_target=DOB,
        rectification_value="1985-02-03",
    )
    assert services.dsar_requests_lapse_unconfirmed(now=timezone.now() + timedelta(days=30)) == 1
    assert not RectificationProposal.objects.exists()


def test_the_configured_providers_name_registered_data_and_a_typo_is_caught(settings):
    from dsar.checks import check_service_providers_holds

    assert check_service_providers_holds() == []
    settings.DSAR_SERVICE_PROVIDERS = [{"key": "x", "name": "X", "holds": ["accounts.User.dob"]}]
    (error,) = check_service_providers_holds()
    assert error.id == "dsar.E002" and "accounts.User.dob" in error.msg
