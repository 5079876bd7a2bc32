"""Under-16 removal: "we will remove any information provided by children below 16 years".

Three ways in, one job. Anyone may report a child's data through the public form (an officer
reviews it); the sweep finds accounts whose date of birth is under 16 and forms flagged as sent
by a child (those need no review). A confirmed `ChildDataReport` row is the job: a worker claims
it under SELECT … FOR UPDATE SKIP LOCKED, erases everything held about the person through the
personal-data registry (`dsar.erasure.erasure_erase_subject`: legal holds keep only what they
declare), tells the reporter, and closes the row. Every step is idempotent and recorded, so a
worker that dies is followed by one that finishes without repeating what was done.
"""

from __future__ import annotations

from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dsar.claims import claim_due, claim_one, stuck_rows
from dsar.erasure import erasure_erase_subject, erasure_erase_subjects
from dsar.jobstatus import JobStatus, job_running_status, job_status, job_when
from dsar.registry import Subject, values_in
from dsar.services import audit_record
from dsar.wake import job_wake

from .app_settings import app_settings
from .models import ChildDataReport, User

State = ChildDataReport.State
Source = ChildDataReport.Source
OPEN_REMOVAL = [State.CONFIRMED, State.REMOVING]
REMOVAL_BATCH = 5000  # removals run together by child_removals_run_batch
MAIL_PURPOSE = "requests"


class ChildReportError(ValidationError):
    """A refused change to a report; nothing was changed."""


def _clean_email(value: str) -> str:
    value = (value or "").strip().lower()
    if value:
        validate_email(value)
    return value


def _account_for(*, email: str, username: str) -> User | None:
    condition = Q()
    if email:
        condition |= Q(email__iexact=email)
    if username:
        condition |= Q(username=username)
    return User.objects.filter(condition).order_by("pk").first() if condition else None


def _mail(*, to: str, template: str, context: dict) -> None:
    from consent.mail import mail_send

    mail_send(
        subject=Subject(email=to),
        purpose=MAIL_PURPOSE,
        template=f"accounts/mail/{template}",
        context=context,
        to=to,
    )


@transaction.atomic
def child_report_submit(
    *,
    reporter_email: str,
    child_name: str = "",
    details: str = "",
    reporter_name: str = "",
    relationship: str = "",
    child_email: str = "",
    child_username: str = "",
) -> ChildDataReport:
    """Someone tells us a child under 16 gave us personal data. Stored for an officer's review;
    the reporter gets a receipt. The account it is about is looked up for the officer."""
    reporter_email = _clean_email(reporter_email)
    child_email = _clean_email(child_email)
    child_username = (child_username or "").strip()
    child_name = (child_name or "").strip()
    if not reporter_email:
        raise ChildReportError(_("Give your email address so that we can tell you what we did."))
    if not (child_name or child_email or child_username):
        raise ChildReportError(
            _("Tell us who the child is: a name, an email address or a username.")
        )
    if relationship and relationship not in ChildDataReport.Relationship.values:
        raise ChildReportError(_("Choose your relationship to the child from the list."))
    report = ChildDataReport(
        source=Source.REPORT,
        reporter_name=(reporter_name or "").strip(),
        reporter_email=reporter_email,
        relationship=relationship,
        child_name=child_name,
        child_email=child_email,
        child_username=child_username,
        details=(details or "").strip(),
        user=_account_for(email=child_email, username=child_username),
    )
    report.full_clean()
    report.save()
    audit_record(
        action="child_report_received",
        actor_kind="subject",
        subject=Subject(email=reporter_email),
        obj=report,
    )
    _mail(to=reporter_email, template="child_report_received", context={"report": report})
    return report


def _whom(report: ChildDataReport) -> tuple[int | None, str, str]:
    """(account id, its address, another reported address) of the person to erase."""
    user = report.user
    if user is not None:
        account_email = user.email.lower()
        extra = report.child_email if report.child_email != account_email else ""
        return user.pk, account_email, extra
    return None, report.child_email, ""


def _open_removal_exists(*, user_id: int | None, email: str, exclude_pk=None) -> bool:
    condition = Q()
    if user_id is not None:
        condition |= Q(erase_user_id=user_id)
    if email:
        condition |= Q(erase_email=email)
    if not condition:
        return False
    rows = ChildDataReport.objects.filter(condition, state__in=OPEN_REMOVAL)
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    return rows.exists()


@transaction.atomic
def child_report_confirm(*, report: ChildDataReport, actor, reason: str = "") -> ChildDataReport:
    """An officer confirms the report is about a child under 16: the removal is due now, and a
    worker is woken after the commit."""
    report = (
        ChildDataReport.objects.select_for_update(of=("self",))
        .select_related("user")
        .get(pk=report.pk)
    )
    if report.state != State.RECEIVED:
        raise ChildReportError(_("Only a report waiting for review can be confirmed."))
    user_id, email, extra = _whom(report)
    if user_id is None and not email:
        raise ChildReportError(
            _(
                "We hold nothing we can find for this report: choose the account it is about, "
                "or reject the report."
            )
        )
    if _open_removal_exists(user_id=user_id, email=email):
        raise ChildReportError(_("A removal of this person is already running."))
    now = timezone.now()
    report.state = State.CONFIRMED
    report.reviewed_by = actor
    report.reviewed_at = now
    report.decision_reason = (reason or "").strip()
    report.erase_user_id, report.erase_email, report.erase_extra_email = user_id, email, extra
    report.save()
    audit_record(
        action="child_report_confirmed",
        actor=actor,
        subject=Subject(user_id=user_id, email=email) if (user_id or email) else None,
        reason=report.decision_reason,
        obj=report,
    )
    _wake([report.pk])
    return report


_CHILD_FIELDS = {
    "child_name": "",
    "child_email": "",
    "child_username": "",
    "details": "",
    "user": None,
    "erase_user_id": None,
    "erase_email": "",
    "erase_extra_email": "",
}


@transaction.atomic
def child_report_reject(*, report: ChildDataReport, actor, reason: str) -> ChildDataReport:
    """An officer found nothing to remove (no such person, or not a child). The reporter is told
    why; the details about the person are not kept."""
    reason = (reason or "").strip()
    if not reason:
        raise ChildReportError(_("Say why the report is rejected: the reporter is told."))
    report = ChildDataReport.objects.select_for_update().get(pk=report.pk)
    if report.state != State.RECEIVED:
        raise ChildReportError(_("Only a report waiting for review can be rejected."))
    now = timezone.now()
    for name, value in _CHILD_FIELDS.items():
        setattr(report, name, value)
    report.state = State.REJECTED
    report.reviewed_by = actor
    report.reviewed_at = now
    report.decision_reason = reason
    report.closed_at = now
    report.save()
    audit_record(action="child_report_rejected", actor=actor, reason=reason, obj=report)
    if report.reporter_email:
        _mail(
            to=report.reporter_email,
            template="child_report_rejected",
            context={"report": report, "reason": reason},
        )
    return report


def _send(report_ids: list[int]) -> None:
    """One message for a single removal; one per batch of REMOVAL_BATCH for many."""
    if len(report_ids) == 1:
        job_wake(task="accounts.tasks.child_removal_task", args=report_ids, after_commit=False)
        return
    for start in range(0, len(report_ids), REMOVAL_BATCH):
        batch = report_ids[start : start + REMOVAL_BATCH]
        job_wake(task="accounts.tasks.child_removals_batch_task", args=[batch], after_commit=False)


def _wake(report_ids: list[int]) -> None:
    if report_ids:
        transaction.on_commit(lambda: _send(list(report_ids)))


# --- The job ------------------------------------------------------------------------------------


def child_removal_status(report: ChildDataReport) -> JobStatus:
    """How the removal of a report's data goes, for an officer, in plain words."""
    if report.state == State.CONFIRMED:
        return job_status(_("Confirmed: the removal starts within minutes."))
    if report.state == State.REMOVING:
        return job_running_status(
            started_at=report.started_at,
            resume_after=app_settings.CHILD_REMOVAL_STUCK_AFTER,
            tries=report.attempts,
        )
    if report.state == State.REMOVED:
        return job_status(_("Removed at %(when)s.") % {"when": job_when(report.closed_at)})
    return job_status(str(report.get_state_display()))


def _runnable(now: datetime) -> Q:
    """Confirmed removals, and running ones whose worker died."""
    return Q(state=State.CONFIRMED) | stuck_rows(
        state=State.REMOVING,
        since="started_at",
        after=app_settings.CHILD_REMOVAL_STUCK_AFTER,
        now=now,
    )


def child_removals_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Removals to run: confirmed ones, and running ones whose worker died."""
    now = now or timezone.now()
    return list(
        ChildDataReport.objects.filter(_runnable(now))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def _claim(report_id: int, now: datetime) -> ChildDataReport | None:
    with transaction.atomic():
        report = claim_one(ChildDataReport.objects.filter(_runnable(now), pk=report_id))
        if report is None:
            return None
        report.state = State.REMOVING
        report.started_at = now
        report.attempts += 1
        report.save(update_fields=["state", "started_at", "attempts"])
        return report


def _subjects(report: ChildDataReport) -> list[Subject]:
    subjects = []
    if report.erase_user_id is not None or report.erase_email:
        subjects.append(Subject(user_id=report.erase_user_id, email=report.erase_email))
    if report.erase_extra_email:
        subjects.append(Subject(email=report.erase_extra_email))
    return subjects


def child_removal_run(*, report_id: int, now: datetime | None = None) -> bool:
    """Run one due removal: erase through the registry, tell the reporter, close the row.
    Returns False (doing nothing) when the row is gone, not due, or claimed by another worker.
    Runs outside a transaction: each model's erasure commits on its own, and a re-run after a
    crash finishes what is left."""
    now = now or timezone.now()
    report = _claim(report_id, now)
    if report is None:
        return False
    counts: dict[str, int] = dict(report.counts or {})
    for subject in _subjects(report):
        for label, rows in erasure_erase_subject(subject=subject).items():
            counts[label] = counts.get(label, 0) + rows
    ChildDataReport.objects.filter(pk=report.pk).update(counts=counts)
    if report.reporter_email and report.reporter_told_at is None:
        # Sent before it is recorded: a crash in between repeats the mail, never loses it.
        _mail(
            to=report.reporter_email,
            template="child_data_removed",
            context={"report": report, "rows": sum(counts.values())},
        )
        ChildDataReport.objects.filter(pk=report.pk).update(reporter_told_at=timezone.now())
    with transaction.atomic():
        done = ChildDataReport.objects.select_for_update().get(pk=report.pk)
        for name, value in _CHILD_FIELDS.items():
            setattr(done, name, value)
        done.state = State.REMOVED
        done.closed_at = timezone.now()
        done.save()
        audit_record(
            action="child_data_removed",
            obj=done,
            detail={"source": done.source, "rows": sum(counts.values())},
        )
    return True


def child_removals_run_batch(*, report_ids: list[int], now: datetime | None = None) -> int:
    """Run many due removals together; return how many were run.

    Removals that found no reporter to tell (the sweep's: date of birth, flagged forms) are
    claimed together (SELECT … FOR UPDATE SKIP LOCKED, one UPDATE), their people erased with one
    bulk erasure (`erasure_erase_subjects`: statements grow with batches, not people), then closed
    together and audited with one event naming the reports. A crash part way leaves the rows
    REMOVING: once stuck they are due again and a re-run finishes (the erasure is idempotent).
    Each row's `counts` holds the batch's totals, with `batch_reports` saying how many removals
    shared them (rows cannot be told apart per person in a set-based erasure). Removals with a
    reporter run one by one (`child_removal_run`), so the reporter is told their own count.
    """
    now = now or timezone.now()
    ran = 0
    for start in range(0, len(report_ids), REMOVAL_BATCH):
        chunk = report_ids[start : start + REMOVAL_BATCH]
        told = list(
            ChildDataReport.objects.filter(values_in("pk", chunk))
            .exclude(reporter_email="")
            .values_list("pk", flat=True)
        )
        for report_id in told:
            ran += child_removal_run(report_id=report_id, now=now)
        ran += _run_batch([pk for pk in chunk if pk not in set(told)], now)
    return ran


def _run_batch(report_ids: list[int], now: datetime) -> int:
    if not report_ids:
        return 0
    claimed = claim_due(
        ChildDataReport.objects.filter(
            _runnable(now), values_in("pk", report_ids), reporter_email=""
        )
        .order_by("pk")
        .only("erase_user_id", "erase_email", "erase_extra_email"),  # whom to erase
        batch_size=len(report_ids),
        mark={"state": State.REMOVING, "started_at": now, "attempts": F("attempts") + 1},
    )
    if not claimed:
        return 0
    ids = [report.pk for report in claimed]
    subjects = [subject for report in claimed for subject in _subjects(report)]
    counts = erasure_erase_subjects(subjects=subjects)
    rows = sum(counts.values())
    with transaction.atomic():
        done = list(
            ChildDataReport.objects.select_for_update()
            .filter(values_in("pk", ids), state=State.REMOVING)
            .values_list("pk", flat=True)
        )
        ChildDataReport.objects.filter(values_in("pk", done)).update(
            **_CHILD_FIELDS,
            state=State.REMOVED,
            closed_at=timezone.now(),
            counts={**counts, "batch_reports": len(done)},
        )
        audit_record(
            action="child_data_removed",
            detail={"reports": done, "rows": rows, "batch": True},
        )
    return len(done)


# --- The sweep ----------------------------------------------------------------------------------


def under_age_born_after(*, today: date | None = None) -> date:
    """Whoever was born after this day is under the minimum age today."""
    today = today or timezone.localdate()
    return today - relativedelta(years=app_settings.MINIMUM_AGE)


def child_data_detect(
    *, today: date | None = None, batch_size: int = REMOVAL_BATCH
) -> dict[str, int]:
    """Find what needs no review and make it due: accounts whose date of birth shows the holder
    is under 16, and senders of forms flagged as from a child. One removal row per person
    (partial unique indexes make a second one a no-op); workers are woken after the commit."""
    from consent.models import FormSubmission

    born_after = under_age_born_after(today=today)
    created = {"accounts": 0, "forms": 0}
    open_users = ChildDataReport.objects.filter(
        state__in=OPEN_REMOVAL, erase_user_id__isnull=False
    ).values("erase_user_id")
    # All of them in one query, by the date-of-birth index: paged by `pk > last ORDER BY pk
    # LIMIT n`, PostgreSQL walked the primary key through a million adults to find the few
    # minors (bench/NOTES.md, under-16 sweep). They are few: the sign-up refuses under-16s.
    minors = list(
        User.objects.filter(date_of_birth__gt=born_after)
        .exclude(pk__in=open_users)
        .order_by("pk")
        .values_list("pk", "email")
    )
    for start in range(0, len(minors), batch_size):
        rows = [
            ChildDataReport(
                source=Source.DATE_OF_BIRTH,
                state=State.CONFIRMED,
                erase_user_id=pk,
                erase_email=email.lower(),
            )
            for pk, email in minors[start : start + batch_size]
        ]
        created["accounts"] += _create_due(rows)
    open_emails = ChildDataReport.objects.filter(state__in=OPEN_REMOVAL).values("erase_email")
    last_pk = 0
    while True:
        forms = list(
            FormSubmission.objects.filter(from_child=True, pk__gt=last_pk)
            .exclude(email__in=open_emails)
            .order_by("pk")
            .values_list("pk", "email", "user_id")[:batch_size]
        )
        if not forms:
            break
        last_pk = forms[-1][0]
        people = {}
        for _pk, email, user_id in forms:
            people.setdefault(email, user_id)
        accounts = dict(
            User.objects.filter(email__in=list(people)).values_list("email", "pk")
        )  # addresses are stored lower-case on both sides
        rows = [
            ChildDataReport(
                source=Source.FLAGGED_FORM,
                state=State.CONFIRMED,
                erase_user_id=user_id or accounts.get(email),
                erase_email=email,
            )
            for email, user_id in people.items()
        ]
        created["forms"] += _create_due(rows)
    return created


def _create_due(rows: list[ChildDataReport]) -> int:
    with transaction.atomic():
        made = ChildDataReport.objects.bulk_create(rows, ignore_conflicts=True)
        # With ignore_conflicts the ids are not returned: find the rows this run made by their
        # (account, address) pairs: one condition for the batch, the pairs matched here (an OR
        # of one condition per pair cost more to build than the query took).
        keys = {(row.erase_user_id, row.erase_email) for row in made}
        user_ids = sorted({pk for pk, _email in keys if pk is not None})
        emails = sorted({email for _pk, email in keys if email})
        whom = Q(pk__in=[])  # nothing, unless a key below
        if user_ids:
            whom |= values_in("erase_user_id", user_ids)
        if emails:
            whom |= values_in("erase_email", emails)
        ids = [
            pk
            for pk, user_id, email in ChildDataReport.objects.filter(
                whom, state=State.CONFIRMED, started_at__isnull=True
            )
            .order_by("pk")
            .values_list("pk", "erase_user_id", "erase_email")
            if (user_id, email) in keys
        ]
        if ids:
            audit_record(action="child_removals_due", detail={"reports": ids})
        _wake(ids)
    return len(ids)


def child_removals_wake_due(*, now: datetime | None = None) -> int:
    """The beat sweep: every due removal (or one whose worker died) gets a message; the row is
    claimed under a lock, so a duplicate message does nothing."""
    due = child_removals_due(now=now)
    _send(due)
    return len(due)


def child_data_sweep(*, today: date | None = None) -> dict[str, int]:
    """Daily: detect, then wake everything due."""
    found = child_data_detect(today=today)
    return {**found, "woken": child_removals_wake_due()}
