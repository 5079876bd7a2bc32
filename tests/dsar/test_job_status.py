"""Officers see job failures in plain words (what failed, what was tried, what to do), the
technical error folded away: recipient notifications, transfers, erasures, child removals
(report packages: test_export_recovery; policy notices: tests/consent/test_notice_outage)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.child_removal import child_removal_status
from accounts.models import ChildDataReport
from dsar import selectors, services
from dsar.jobstatus import JobStatus, job_status
from dsar.models import ErasureSchedule, RequestKind, ThirdPartyTransfer
from tests.plain_words import assert_folded

from .test_restriction import restriction_in_progress


def test_the_status_prints_plain_words_and_folds_the_detail_escaped():
    assert str(job_status("Done.")) == "Done."
    status = JobStatus(text="It failed <now>.", detail="OSError: <disk>")
    html = status.__html__()
    assert html.startswith("It failed &lt;now&gt;.<details><summary>")
    assert "<pre>OSError: &lt;disk&gt;</pre></details>" in html


@pytest.mark.django_db
def test_a_failed_recipient_notification_reads_in_plain_words(officer_client, user, settings):
    settings.DSAR_SERVICE_PROVIDERS = [
        {"key": "flaky", "name": "Flaky partner", "adapter": "tests.dsar.adapters.FailingAdapter"}
    ]
    request = restriction_in_progress(user)
    services.dsar_request_assign(request=request, assignee=officer_client.officer, actor=None)
    services.dsar_request_apply(request=request, actor=None)
    notification = request.recipient_notifications.get()
    services.recipient_notification_send(notification_id=notification.pk)
    page = officer_client.get(f"/admin/dsar/datasubjectrequest/{request.pk}/change/")
    assert page.status_code == 200
    assert_folded(
        page.content.decode(),
        plain="Telling this recipient failed",
        technical="ConnectionError: partner API is down",
    )
    assert "tried again automatically" in page.content.decode()
    notification.refresh_from_db()
    notification.attempts = 10
    assert (
        "tell the recipient another way"
        in selectors.recipient_notification_status(notification).text
    )


def test_a_failed_transfer_says_what_to_do():
    transfer = ThirdPartyTransfer(state="failed", attempts=8, last_error="ConnectionError: down")
    status = selectors.transfer_status(transfer)
    assert "could not be delivered" in status.text and "Tried 8 time(s)" in status.text
    assert status.detail == "ConnectionError: down"
    retrying = ThirdPartyTransfer(state="sending", attempts=2, last_error="ConnectionError: down")
    assert "tried again automatically" in selectors.transfer_status(retrying).text
    assert selectors.transfer_status(ThirdPartyTransfer(state="received")).detail == ""


@pytest.mark.django_db
def test_an_erasure_that_stopped_is_shown_in_plain_words(officer_client, user):
    request, _ = services.dsar_request_file(kind=RequestKind.ERASURE, user=user)
    request = services.dsar_request_transition(request=request, to_state="in_progress", actor=None)
    services.dsar_request_assign(request=request, assignee=officer_client.officer, actor=None)
    schedule = services.erasure_schedule(request=request, actor=officer_client.officer)
    url = f"/admin/dsar/datasubjectrequest/{request.pk}/change/"
    assert "the person may cancel until then" in officer_client.get(url).content.decode()
    ErasureSchedule.objects.filter(pk=schedule.pk).update(
        state="running", started_at=timezone.now(), erase_user_id=user.pk
    )
    schedule.refresh_from_db()
    assert selectors.erasure_status(schedule).text.startswith("Running since")
    ErasureSchedule.objects.filter(pk=schedule.pk).update(
        started_at=timezone.now() - timedelta(days=1)
    )
    page = officer_client.get(url).content.decode()
    assert "It stopped before it finished" in page and "resumed automatically" in page
    ErasureSchedule.objects.filter(pk=schedule.pk).update(erase_user_id=None)
    schedule.refresh_from_db()
    assert "cannot go on by itself" in selectors.erasure_status(schedule).text


@pytest.mark.django_db
def test_a_child_removal_that_stopped_is_shown_in_plain_words(officer_client, user):
    report = ChildDataReport.objects.create(
        reporter_email="parent@example.org",
        child_name="Sam",
        state="removing",
        erase_user_id=user.pk,
        attempts=2,
        started_at=timezone.now() - timedelta(days=1),
    )
    status = child_removal_status(report)
    assert "It stopped before it finished" in status.text and "Tried 2 time(s)" in status.text
    page = officer_client.get(f"/admin/accounts/childdatareport/{report.pk}/change/")
    assert page.status_code == 200
    assert "It stopped before it finished" in page.content.decode()
    report.state, report.closed_at = "removed", timezone.now()
    assert child_removal_status(report).text.startswith("Removed at")
