"""Erasure: approved, scheduled with a grace period the person can cancel in, then run by the
beat sweep through the personal-data registry. Every step is recorded on the schedule row, so
a worker that dies mid-way is followed by one that finishes the job without repeating mail."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..app_settings import app_settings
from ..erasure import erasure_erase_subject
from ..mail import request_mail_send
from ..models import (
    DataSubjectRequest,
    ErasureSchedule,
    RecipientNotification,
    RequestKind,
    RequestState,
)
from ..registry import SERVICE_DATA_CATEGORY, Subject
from .base import RequestError, audit_record, request_subject
from .recipients import recipient_notification_send, recipient_notifications_create

RESUME_AFTER = timedelta(minutes=15)


def erasure_subject(request: DataSubjectRequest) -> Subject:
    """The account and anything held under its address (e.g. forms filled in before signup)."""
    if request.user_id:
        return Subject(user_id=request.user_id, email=request.user.email)
    return request_subject(request)


@transaction.atomic
def erasure_schedule(*, request: DataSubjectRequest, actor) -> ErasureSchedule:
    """Approve an erasure: it runs after the grace period unless the person cancels."""
    request = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    if request.kind not in (RequestKind.ERASURE, RequestKind.SERVICE_DATA_DELETION):
        raise RequestError(_("Only an erasure request is scheduled like this."))
    if request.state != RequestState.IN_PROGRESS:
        raise RequestError(_("Start work on the request (in progress) before approving it."))
    schedule, created = ErasureSchedule.objects.get_or_create(
        request=request,
        defaults={"due_at": timezone.now() + timedelta(days=app_settings.ERASURE_GRACE_DAYS)},
    )
    if created:
        audit_record(
            action="erasure_scheduled",
            actor=actor,
            subject=request_subject(request),
            obj=schedule,
            detail={"due": schedule.due_at.isoformat()},
        )
        request_mail_send(
            request=request, template="erasure_scheduled", context={"schedule": schedule}
        )
    return schedule


@transaction.atomic
def erasure_cancel(*, request: DataSubjectRequest, user) -> ErasureSchedule:
    """The person changed their mind during the grace period."""
    from .requests import dsar_request_transition

    schedule = ErasureSchedule.objects.select_for_update().filter(request=request).first()
    if schedule is None or schedule.state != ErasureSchedule.State.SCHEDULED:
        raise RequestError(_("This erasure can no longer be cancelled."))
    schedule.state = ErasureSchedule.State.CANCELLED
    schedule.save(update_fields=["state"])
    dsar_request_transition(
        request=request,
        to_state=RequestState.WITHDRAWN,
        actor=user,
        reason=_("You cancelled the erasure; we keep your data."),
    )
    return schedule


def erasures_due(*, now=None, limit: int = 100) -> list[int]:
    """Schedules to run: due ones, and running ones whose worker died (resumed)."""
    now = now or timezone.now()
    due = ErasureSchedule.objects.filter(state=ErasureSchedule.State.SCHEDULED, due_at__lte=now)
    stuck = ErasureSchedule.objects.filter(
        state=ErasureSchedule.State.RUNNING, started_at__lt=now - RESUME_AFTER
    )
    return list((due | stuck).order_by("due_at").values_list("pk", flat=True)[:limit])


def _claim(schedule_id: int, now) -> ErasureSchedule | None:
    with transaction.atomic():
        schedule = (
            ErasureSchedule.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("request__user")
            .filter(pk=schedule_id)
            .first()
        )
        if schedule is None:
            return None
        runnable = (
            schedule.state == ErasureSchedule.State.SCHEDULED and schedule.due_at <= now
        ) or (
            schedule.state == ErasureSchedule.State.RUNNING
            and schedule.started_at < now - RESUME_AFTER
        )
        if not runnable:
            return None
        schedule.state = ErasureSchedule.State.RUNNING
        schedule.started_at = now
        schedule.save(update_fields=["state", "started_at"])
        return schedule


def erasure_run(*, schedule_id: int, now=None) -> bool:
    """Run one due erasure: tell the recipients, send the final confirmation while we still
    have the address, erase through the registry, then close the request."""
    now = now or timezone.now()
    schedule = _claim(schedule_id, now)
    if schedule is None:
        return False
    request = schedule.request
    subject = erasure_subject(request)
    with transaction.atomic():
        recipient_notifications_create(request=request)
    for notification in request.recipient_notifications.exclude(adapter="").filter(
        state__in=[RecipientNotification.State.PENDING, RecipientNotification.State.FAILED]
    ):
        recipient_notification_send(notification_id=notification.pk)
    service_data_only = request.kind == RequestKind.SERVICE_DATA_DELETION
    if schedule.final_mail_sent_at is None:
        _send_final_confirmation(request)
        ErasureSchedule.objects.filter(pk=schedule.pk).update(final_mail_sent_at=timezone.now())
    counts = erasure_erase_subject(
        subject=subject, categories=[SERVICE_DATA_CATEGORY] if service_data_only else None
    )
    with transaction.atomic():
        schedule.refresh_from_db()
        schedule.state = ErasureSchedule.State.DONE
        schedule.finished_at = timezone.now()
        schedule.counts = counts
        schedule.save(update_fields=["state", "finished_at", "counts"])
        audit_record(
            action="erasure_done",
            subject=subject,
            obj=schedule,
            detail={"rows": sum(counts.values())},
        )
        _complete_if_possible(request)
    return True


def _send_final_confirmation(request: DataSubjectRequest) -> None:
    """Sent before the erasure itself (the run is outside a transaction, so the mail leaves at
    once): afterwards we no longer have the address."""
    if request.kind == RequestKind.SERVICE_DATA_DELETION:
        request_mail_send(request=request, template="service_data_deletion_final")
    else:
        request_mail_send(request=request, template="erasure_final")


def _complete_if_possible(request: DataSubjectRequest) -> None:
    from .requests import dsar_request_transition, request_completion_blockers

    request = DataSubjectRequest.objects.get(pk=request.pk)
    if request.state == RequestState.IN_PROGRESS and not request_completion_blockers(request):
        dsar_request_transition(
            request=request,
            to_state=RequestState.COMPLETED,
            actor=None,
            reason="Erased through the personal-data registry.",
        )
