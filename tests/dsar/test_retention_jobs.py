"""Retention across the registry and the jobs that cover what the registry sweep does not
(finished exports, lapsed unconfirmed requests), and the default schedules made by migrations."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.models import ChildDataReport, UserSession
from consent import services as consent_services
from consent.models import FormSubmission, PolicyNotice, PolicyVersion
from dsar import services
from dsar.models import DataSubjectRequest, ExportFile, RequestState
from dsar.tasks import retention_sweep_task
from tests.accounts.factories import ChildDataReportFactory, UserFactory


@pytest.mark.django_db
def test_one_daily_round_applies_every_retention(user, mailoutbox):
    now = timezone.now()
    # Registry retention (the daily sweep): forms, expired sessions, closed child reports after
    # a year, policy notices after three years.
    old_form = consent_services.form_submission_create(
        kind="contact_request", email="old@example.com", name="Old"
    )
    FormSubmission.objects.filter(pk=old_form.pk).update(
        created_at=now - timedelta(days=400), retain_until=now - timedelta(days=1)
    )
    fresh_form = consent_services.form_submission_create(
        kind="contact_request", email="new@example.com", name="New"
    )
    UserSession.objects.create(
        session_key="expired" + "x" * 30, session_data="", expire_date=now - timedelta(hours=1)
    )
    live = UserSession.objects.create(
        session_key="live" + "y" * 33, session_data="", expire_date=now + timedelta(days=1)
    )
    closed_long_ago = ChildDataReportFactory(
        reporter_email="r@example.net", state="rejected", closed_at=now - timedelta(days=366)
    )
    closed_recently = ChildDataReportFactory(
        reporter_email="s@example.net", state="rejected", closed_at=now - timedelta(days=30)
    )
    waiting = ChildDataReportFactory(reporter_email="t@example.net", child_name="K")
    # An old material version (a draft is enough: the notice rows are what is swept).
    notice_policy = PolicyVersion.objects.create(
        version="0.9",
        text="x",
        is_material=True,
        effective_at=now - timedelta(days=4 * 365),
    )
    old_notice = PolicyNotice.objects.create(
        version=notice_policy, user=user, created_at=now - timedelta(days=3 * 365 + 1)
    )
    other = UserFactory()
    recent_notice = PolicyNotice.objects.create(version=notice_policy, user=other)

    counts = retention_sweep_task()

    assert counts["consent.FormSubmission"] == 1 and counts["accounts.UserSession"] == 1
    assert counts["accounts.ChildDataReport"] == 1 and counts["consent.PolicyNotice"] == 1
    assert not FormSubmission.objects.filter(pk=old_form.pk).exists()
    assert FormSubmission.objects.filter(pk=fresh_form.pk).exists()
    assert list(UserSession.objects.values_list("pk", flat=True)) == [live.pk]
    assert set(ChildDataReport.objects.values_list("pk", flat=True)) == {
        closed_recently.pk,
        waiting.pk,
    }
    assert not ChildDataReport.objects.filter(pk=closed_long_ago.pk).exists()
    assert set(PolicyNotice.objects.values_list("pk", flat=True)) == {recent_notice.pk}
    assert not PolicyNotice.objects.filter(pk=old_notice.pk).exists()
    # A second run finds nothing.
    assert sum(retention_sweep_task().values()) == 0


@pytest.mark.django_db
def test_finished_exports_and_lapsed_requests_are_covered_by_their_own_jobs(user):
    """Not the registry sweep: `exports_sweep` deletes export files 7 days after they were built,
    and `dsar_requests_lapse_unconfirmed` blanks requests never confirmed within 7 days."""
    now = timezone.now()
    request, _ = services.dsar_request_file(kind="portability", user=user)
    request = services.dsar_request_transition(request=request, to_state="in_progress", actor=None)
    services.dsar_request_apply(request=request, actor=None)
    export = request.exports.get()
    assert services.export_build(export_id=export.pk)
    ExportFile.objects.filter(pk=export.pk).update(expires_at=now - timedelta(minutes=1))
    unconfirmed, _ = services.dsar_request_file(
        kind="access", email="someone@example.org", details="Everything you hold."
    )
    DataSubjectRequest.objects.filter(pk=unconfirmed.pk).update(filed_at=now - timedelta(days=8))

    assert services.exports_sweep()["deleted"] == 1
    assert services.dsar_requests_lapse_unconfirmed() == 1

    export.refresh_from_db()
    assert export.state == ExportFile.State.DELETED and not export.file
    unconfirmed.refresh_from_db()
    assert unconfirmed.state == RequestState.LAPSED
    assert (unconfirmed.email, unconfirmed.details) == ("", "")


SCHEDULES = {
    "consent.tasks.policy_notices_sweep_task": "every minute",
    "accounts.tasks.child_removals_run_due_task": "*/5",
    "accounts.tasks.child_data_sweep_task": "30 2",
    "dsar.tasks.retention_sweep_task": "15 3",
    "dsar.tasks.exports_sweep_task": "*/10",
    "dsar.tasks.requests_lapse_unconfirmed_task": "7 *",
    "dsar.tasks.erasures_run_due_task": "*/5",
}


@pytest.mark.django_db
def test_default_schedules_exist_and_officers_may_edit_them():
    for task_name, when in SCHEDULES.items():
        task = PeriodicTask.objects.get(task=task_name)
        assert task.enabled, task_name
        if task.interval_id:
            assert (task.interval.every, task.interval.period) == (1, "minutes")
            assert when == "every minute"
        else:
            assert when.split()[0] == task.crontab.minute, task_name
    officer = Group.objects.get(name="Privacy officer")
    codenames = set(officer.permissions.values_list("codename", flat=True))
    assert {"change_periodictask", "add_periodictask"} <= codenames
    assert {
        "publish_policyversion",
        "view_policynotice",
        "review_childdatareport",
        "flag_child_formsubmission",
    } <= codenames
