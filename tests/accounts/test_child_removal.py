"""Under-16 removal: the public report form, the officers' queue, the removal job through the
registry (legal holds kept and detached), the reporter's mail, and the sweep."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import child_removal
from accounts.models import ChildDataReport, User
from accounts.tasks import child_data_sweep_task, child_removal_task, child_removals_run_due_task
from consent import services as consent_services
from consent.models import FormSubmission
from dsar import services as dsar_services
from dsar.erasure import personal_data_leftovers
from dsar.models import AuditEvent
from tests.accounts.factories import UserFactory
from tests.conftest import login_with_totp
from tests.dsar.people import make_person

FORM = "/accounts/report-child-data/"


def child_account(username="kid", years=14):
    today = timezone.localdate()
    return UserFactory(
        username=username,
        email=f"{username}@example.org",
        full_name=f"{username.title()} Young",
        date_of_birth=today.replace(year=today.year - years) - timedelta(days=1),
    )


def report_about(user=None, **overrides):
    data = {
        "reporter_email": "Parent@Example.net",
        "reporter_name": "Pat Parent",
        "relationship": "parent",
        "child_name": "Kim Young",
        "child_email": user.email if user else "",
        "details": "My daughter is 13 and signed up for the newsletter.",
    }
    data.update(overrides)
    return child_removal.child_report_submit(**data)


# --- The public form ----------------------------------------------------------------------------


def post_report(client, kid):
    return client.post(
        FORM,
        {
            "reporter_email": "parent@example.net",
            "relationship": "parent",
            "child_name": "Kid Young",
            "child_email": kid.email.upper(),
            "details": "She is 14.",
        },
    )


@pytest.mark.django_db
def test_anyone_can_report_without_logging_in(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    kid = child_account()
    page = client.get(FORM)
    assert page.status_code == 200 and "Report a child" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_report(client, kid)
    assert response.status_code == 302 and response["Location"].endswith("/thanks/")
    report = ChildDataReport.objects.get()
    assert (report.state, report.source, report.user) == ("received", "report", kid)
    assert report.child_email == kid.email  # stored lower-case
    assert [m.to for m in mailoutbox] == [["parent@example.net"]]
    assert "received your report" in mailoutbox[0].subject
    assert User.objects.filter(pk=kid.pk).exists()  # nothing removed before review


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data, error",
    [
        ({"reporter_email": "p@example.net"}, "Tell us who the child is"),
        ({"reporter_email": "not-an-address", "child_name": "Kim"}, "valid email"),
        ({"child_name": "Kim"}, "This field is required"),
        ({"reporter_email": "p@example.net", "child_name": "Kim", "relationship": "x"}, "valid"),
    ],
)
def test_bad_reports_get_a_clear_error_and_store_nothing(client, mailoutbox, data, error):
    response = client.post(FORM, data)
    assert response.status_code == 400 and error in response.content.decode()
    assert not ChildDataReport.objects.exists() and mailoutbox == []


@pytest.mark.django_db
def test_reports_are_rate_limited(client, settings):
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "child_report": "2/h/ip"}
    data = {"reporter_email": "p@example.net", "child_name": "Kim"}
    assert client.post(FORM, data).status_code == 302
    assert client.post(FORM, data).status_code == 302
    response = client.post(FORM, data)
    assert response.status_code == 400 and "several reports" in response.content.decode()
    assert ChildDataReport.objects.count() == 2


# --- Review and removal ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_confirmed_report_removes_everything_but_legal_holds_and_tells_the_reporter(
    mailoutbox,
):
    officer = UserFactory(is_staff=True)
    person = make_person(
        username="younger", full_name="Young Person", phone="+353 1 555 0111", staff=officer
    )
    consent_services.form_submission_create(
        kind="newsletter_signup", email=person.user.email, name="Young Person"
    )
    dsar_request, _joined = dsar_services.dsar_request_file(kind="access", user=person.user)
    report = report_about(person.user, details="Young Person is 12.")
    mailoutbox.clear()

    child_removal.child_report_confirm(report=report, actor=officer, reason="Age checked")
    report.refresh_from_db()
    assert report.state == "confirmed" and report.erase_user_id == person.user.pk
    assert child_removal_task(report.pk) is True  # what the woken worker runs

    assert not User.objects.filter(pk=person.user.pk).exists()
    assert not FormSubmission.objects.filter(email=person.user.email).exists()
    dsar_request.refresh_from_db()
    assert (dsar_request.user_id, dsar_request.email) == (None, "")  # kept, detached
    report.refresh_from_db()
    assert report.state == "removed" and report.closed_at and report.reporter_told_at
    assert (report.child_name, report.child_email, report.details) == ("", "", "")
    assert report.erase_user_id is None and report.erase_email == ""
    assert report.counts["accounts.User"] == 1
    assert report.reporter_email == "parent@example.net"  # kept until the report's retention
    assert personal_data_leftovers(needles=person.needles) == []
    assert [m.to for m in mailoutbox] == [["parent@example.net"]]
    assert "removed" in mailoutbox[0].subject
    assert AuditEvent.objects.filter(action="child_data_removed").count() == 1
    # A repeat (a duplicated message) does nothing and mails nobody.
    assert child_removal_task(report.pk) is False
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_confirming_needs_someone_to_erase_and_one_removal_at_a_time(user):
    officer = UserFactory(is_staff=True)
    nobody = report_about(child_name="Unknown child")
    with pytest.raises(child_removal.ChildReportError, match="choose the account"):
        child_removal.child_report_confirm(report=nobody, actor=officer)
    first, second = report_about(user), report_about(user)
    child_removal.child_report_confirm(report=first, actor=officer)
    with pytest.raises(child_removal.ChildReportError, match="already running"):
        child_removal.child_report_confirm(report=second, actor=officer)
    with pytest.raises(child_removal.ChildReportError, match="waiting for review"):
        child_removal.child_report_confirm(report=first, actor=officer)
    second.refresh_from_db()
    assert second.state == "received"


@pytest.mark.django_db
def test_a_rejected_report_needs_a_reason_tells_the_reporter_and_keeps_no_details(
    user, mailoutbox, django_capture_on_commit_callbacks
):
    officer = UserFactory(is_staff=True)
    report = report_about(user)
    mailoutbox.clear()
    with pytest.raises(child_removal.ChildReportError, match="Say why"):
        child_removal.child_report_reject(report=report, actor=officer, reason=" ")
    with django_capture_on_commit_callbacks(execute=True):
        child_removal.child_report_reject(
            report=report, actor=officer, reason="The account holder is 34."
        )
    report.refresh_from_db()
    assert report.state == "rejected" and report.user is None and report.child_email == ""
    assert "The account holder is 34." in mailoutbox[0].body
    assert User.objects.filter(pk=user.pk).exists()


@pytest.mark.django_db
def test_officer_queue_in_admin(make_staff, user, django_capture_on_commit_callbacks):
    officer, secret = make_staff("Privacy officer")
    client = Client()
    login_with_totp(client, officer, secret)
    report, other = report_about(user), report_about(child_name="Nobody known")
    listing = client.get("/admin/accounts/childdatareport/")
    assert listing.status_code == 200 and "Waiting for review" in listing.content.decode()
    assert client.get(f"/admin/accounts/childdatareport/{report.pk}/change/").status_code == 200
    assert AuditEvent.objects.filter(action="staff_viewed_child_report").exists()
    # Reject asks for a reason first, and changes nothing until it is given.
    page = client.post(
        "/admin/accounts/childdatareport/",
        {"action": "reject_reports", "_selected_action": [other.pk]},
    )
    assert "Reason" in page.content.decode()
    other.refresh_from_db()
    assert other.state == "received"
    client.post(
        "/admin/accounts/childdatareport/",
        {"action": "reject_reports", "_selected_action": [other.pk], "reason": "No such child"},
    )
    other.refresh_from_db()
    assert other.state == "rejected" and other.decision_reason == "No such child"
    with django_capture_on_commit_callbacks() as woken:
        client.post(
            "/admin/accounts/childdatareport/",
            {"action": "confirm_reports", "_selected_action": [report.pk]},
        )
    report.refresh_from_db()
    assert report.state == "confirmed" and report.reviewed_by == officer and len(woken) == 1


@pytest.mark.django_db
def test_support_staff_cannot_review(make_staff, user):
    support, secret = make_staff("Support")
    client = Client()
    login_with_totp(client, support, secret)
    report = report_about(user)
    response = client.post(
        "/admin/accounts/childdatareport/",
        {"action": "confirm_reports", "_selected_action": [report.pk]},
    )
    assert response.status_code == 403
    report.refresh_from_db()
    assert report.state == "received"


# --- The sweep ----------------------------------------------------------------------------------


def test_under_age_cut_off():
    assert child_removal.under_age_born_after(today=date(2026, 3, 1)) == date(2010, 3, 1)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_sweep_removes_under_16_accounts_and_flagged_forms(mailoutbox):
    kid = child_account("kid", years=15)
    adult = child_account("adult", years=16)  # 16 today and one day: stays
    flagged = consent_services.form_submission_create(
        kind="contest_entry", email="young@example.com", name="Young Contestant"
    )
    consent_services.form_submission_create(
        kind="survey_response", email="young@example.com", name="Young Contestant"
    )
    officer = UserFactory(is_staff=True)
    with pytest.raises(Exception, match="Say why"):
        consent_services.form_submission_flag_child(submission=flagged, actor=officer, reason="")
    consent_services.form_submission_flag_child(
        submission=flagged, actor=officer, reason="Said she is 12 in the entry."
    )
    assert child_data_sweep_task() == {"accounts": 1, "forms": 1, "woken": 2}
    # Without a worker here, run what the messages would run.
    for report_id in child_removal.child_removals_due():
        child_removal_task(report_id)
    assert not User.objects.filter(pk=kid.pk).exists()
    assert User.objects.filter(pk=adult.pk).exists()
    assert not FormSubmission.objects.filter(email="young@example.com").exists()
    assert set(ChildDataReport.objects.values_list("source", "state")) == {
        ("date_of_birth", "removed"),
        ("flagged_form", "removed"),
    }
    assert personal_data_leftovers(needles=["kid@example.org", "young@example.com"]) == []
    # Nothing new the second time.
    assert child_data_sweep_task() == {"accounts": 0, "forms": 0, "woken": 0}
    assert mailoutbox == []  # no reporter to tell


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_removal_whose_worker_died_is_resumed_and_the_reporter_told_once(mailoutbox, settings):
    kid = child_account()
    officer = UserFactory(is_staff=True)
    report = report_about(kid)
    child_removal.child_report_confirm(report=report, actor=officer)
    mailoutbox.clear()
    # The first worker claimed it and died.
    ChildDataReport.objects.filter(pk=report.pk).update(
        state="removing", started_at=timezone.now() - timedelta(hours=1), attempts=1
    )
    assert child_removal.child_removals_due() == [report.pk]
    assert child_removals_run_due_task() == 1  # the beat sweep wakes it
    assert child_removal_task(report.pk) is True
    report.refresh_from_db()
    assert report.state == "removed" and report.attempts == 2
    assert not User.objects.filter(pk=kid.pk).exists()
    assert len(mailoutbox) == 1
    # A removal that is running (not stuck) is left to its worker.
    second = report_about(child_account("other"))
    child_removal.child_report_confirm(report=second, actor=officer)
    ChildDataReport.objects.filter(pk=second.pk).update(state="removing", started_at=timezone.now())
    assert child_removal_task(second.pk) is False
    assert child_removal_task(999999) is False


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_sweep_s_removals_run_as_one_batch(mailoutbox):
    kids = [child_account(f"kid{i}", years=13) for i in range(3)]
    adult = child_account("grown", years=30)
    assert child_removal.child_data_detect() == {"accounts": 3, "forms": 0}
    due = child_removal.child_removals_due()
    assert len(due) == 3
    assert child_removal.child_removals_run_batch(report_ids=due) == 3
    assert not User.objects.filter(pk__in=[k.pk for k in kids]).exists()
    assert User.objects.filter(pk=adult.pk).exists()
    reports = ChildDataReport.objects.filter(pk__in=due)
    assert {(r.state, r.attempts, r.erase_user_id) for r in reports} == {("removed", 1, None)}
    assert all(r.closed_at and r.counts["accounts.User"] == 3 for r in reports)
    assert personal_data_leftovers(needles=[k.email for k in kids]) == []
    # Claimed once: a repeated message does nothing.
    assert child_removal.child_removals_run_batch(report_ids=due) == 0
    assert mailoutbox == []


def _sweep_statements(prefix: str, minors: int) -> int:
    for i in range(minors):
        child_account(f"{prefix}{i}", years=13)
    with CaptureQueriesContext(connection) as sweep:
        assert child_removal.child_data_detect() == {"accounts": minors, "forms": 0}
        due = child_removal.child_removals_due()
        assert child_removal.child_removals_run_batch(report_ids=due) == minors
    assert not User.objects.filter(username__startswith=prefix).exists()
    return len(sweep.captured_queries)


@pytest.mark.django_db
def test_the_sweep_s_statements_do_not_grow_with_the_number_of_minors():
    few = _sweep_statements("few", 2)
    assert _sweep_statements("many", 12) <= few


# --- The under-16 boundary (docs/mutation.md) ---------------------------------------------------


def born(*, years_before: date, years: int, days: int = 0) -> date:
    return years_before.replace(year=years_before.year - years) + timedelta(days=days)


@pytest.mark.django_db
def test_the_sweep_takes_whoever_turns_16_tomorrow_and_leaves_whoever_turned_16_today():
    today = date(2026, 3, 10)
    tomorrow_16 = UserFactory(
        username="almost",
        email="almost@example.org",
        date_of_birth=born(years_before=today, years=16, days=1),
    )
    today_16 = UserFactory(
        username="today16",
        email="today16@example.org",
        date_of_birth=born(years_before=today, years=16),
    )
    assert child_removal.child_data_detect(today=today) == {"accounts": 1, "forms": 0}
    assert list(ChildDataReport.objects.values_list("erase_user_id", "erase_email", "source")) == [
        (tomorrow_16.pk, "almost@example.org", "date_of_birth")
    ]
    assert not ChildDataReport.objects.filter(erase_user_id=today_16.pk).exists()


@pytest.mark.django_db
def test_the_sweep_finds_every_minor_whatever_the_batch_size():
    today = date(2026, 3, 10)
    kids = [
        UserFactory(
            username=f"kid{i}",
            email=f"Kid{i}@Example.org",
            date_of_birth=born(years_before=today, years=10 + i),
        )
        for i in range(5)
    ]
    UserFactory(username="grown", email="grown@example.org", date_of_birth=date(1990, 1, 1))
    assert child_removal.child_data_detect(today=today, batch_size=2) == {"accounts": 5, "forms": 0}
    assert sorted(ChildDataReport.objects.values_list("erase_user_id", "erase_email")) == sorted(
        (kid.pk, kid.email.lower()) for kid in kids
    )
    # A second run adds nothing: each minor has one open removal.
    assert child_removal.child_data_detect(today=today, batch_size=2) == {"accounts": 0, "forms": 0}


@pytest.mark.django_db
def test_the_sweep_takes_each_flagged_sender_once_whatever_the_batch_size():
    officer = UserFactory(is_staff=True)
    holder = UserFactory(
        username="holder", email="holder@example.org", date_of_birth=date(1990, 1, 1)
    )
    for email in ("a@example.com", "a@example.com", "b@example.com", "holder@example.org"):
        submission = consent_services.form_submission_create(
            kind="contest_entry", email=email, name="Young Contestant"
        )
        consent_services.form_submission_flag_child(
            submission=submission, actor=officer, reason="Said she is 12 in the entry."
        )
    consent_services.form_submission_create(
        kind="contest_entry", email="c@example.com", name="Not Flagged"
    )
    assert child_removal.child_data_detect(batch_size=2) == {"accounts": 0, "forms": 3}
    assert sorted(
        ChildDataReport.objects.values_list("erase_email", "erase_user_id", "source")
    ) == [
        ("a@example.com", None, "flagged_form"),
        ("b@example.com", None, "flagged_form"),
        ("holder@example.org", holder.pk, "flagged_form"),
    ]
    assert child_removal.child_data_detect(batch_size=2) == {"accounts": 0, "forms": 0}


@pytest.mark.django_db
def test_a_report_waiting_for_review_does_not_hold_back_the_sweep():
    today = timezone.localdate()
    kid = child_account("waiting", years=13)
    report = report_about(kid)
    assert report.state == "received"
    assert child_removal.child_data_detect(today=today) == {"accounts": 1, "forms": 0}
    assert ChildDataReport.objects.filter(
        erase_user_id=kid.pk, source="date_of_birth", state="confirmed"
    ).exists()


@pytest.mark.django_db
def test_an_open_removal_known_only_by_address_does_not_hide_the_minors():
    officer = UserFactory(is_staff=True)
    submission = consent_services.form_submission_create(
        kind="contest_entry", email="no.account@example.com", name="Young Contestant"
    )
    consent_services.form_submission_flag_child(
        submission=submission, actor=officer, reason="Said she is 12 in the entry."
    )
    assert child_removal.child_data_detect() == {"accounts": 0, "forms": 1}
    kid = child_account("later", years=12)
    assert child_removal.child_data_detect() == {"accounts": 1, "forms": 0}
    assert ChildDataReport.objects.filter(erase_user_id=kid.pk, state="confirmed").exists()


@pytest.mark.django_db
def test_a_flagged_form_sent_while_signed_in_removes_the_sender_s_account_too():
    """The form's address need not be the account's: the account that sent it is erased."""
    officer = UserFactory(is_staff=True)
    sender = UserFactory(username="sender", email="sender@example.org")
    submission = consent_services.form_submission_create(
        kind="contest_entry", email="other.address@example.com", name="Young", user=sender
    )
    consent_services.form_submission_flag_child(
        submission=submission, actor=officer, reason="Said she is 12 in the entry."
    )
    assert child_removal.child_data_detect() == {"accounts": 0, "forms": 1}
    assert list(ChildDataReport.objects.values_list("erase_email", "erase_user_id")) == [
        ("other.address@example.com", sender.pk)
    ]


@pytest.mark.django_db
def test_the_very_first_form_ever_sent_is_found_too():
    officer = UserFactory(is_staff=True)
    FormSubmission.objects.filter(pk=1).delete()
    submission = consent_services.form_submission_create(
        kind="contest_entry", email="first@example.com", name="Young Contestant"
    )
    FormSubmission.objects.filter(pk=submission.pk).update(id=1)
    consent_services.form_submission_flag_child(
        submission=FormSubmission.objects.get(pk=1), actor=officer, reason="Said she is 12."
    )
    assert child_removal.child_data_detect() == {"accounts": 0, "forms": 1}
