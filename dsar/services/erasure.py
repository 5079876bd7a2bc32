"""Erasure: approved, scheduled with a grace period the person can cancel in, then run by the
beat sweep through the personal-data registry. Every step is recorded on the schedule row, so
a worker that dies mid-way is followed by one that finishes the job without repeating mail."""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ..app_settings import app_settings
from ..claims import claim_one, stuck_rows
from ..erasure import erasure_erase_subjects, erasure_holds
from ..mail import absolute_url, request_mail_send, view_token
from ..models import (
    DataSubjectRequest,
    ErasureSchedule,
    RecipientNotification,
    RequestKind,
    RequestState,
    WebhookEventType,
)
from ..registry import SERVICE_DATA_CATEGORY, Subject
from ..request_parts import request_part_handlers
from .base import RequestError, audit_record, request_subject
from .recipients import recipient_notification_send, recipient_notifications_create
from .webhooks import request_webhook_data, webhook_emit

logger = logging.getLogger(__name__)


def resume_after() -> timedelta:
    """How long a running erasure may go unfinished before the sweep resumes it."""
    return timedelta(seconds=app_settings.ERASURE_RESUME_AFTER_SECONDS)


def erasure_subject(request: DataSubjectRequest) -> Subject:
    """The account and anything held under its address (e.g. forms filled in before signup).
    Only while the request still points at the person: once an erasure has started, whom it
    erases is read from its schedule (`erasure_subjects`)."""
    if request.user_id:
        return Subject(user_id=request.user_id, email=request.user.email)
    return request_subject(request)


def _whom(request: DataSubjectRequest) -> tuple[int | None, str, str]:
    """(account id, its address, the request's own address if another) of the person."""
    account_email = (request.user.email if request.user_id else "").lower()
    request_email = (request.email or "").lower()
    if account_email:
        extra = request_email if request_email != account_email else ""
        return request.user_id, account_email, extra
    return request.user_id, request_email, ""


def erasure_subjects(schedule: ErasureSchedule) -> list[Subject]:
    """Whom the erasure erases, as fixed on its own row when it started."""
    subjects = []
    if schedule.erase_user_id is not None or schedule.erase_email:
        subjects.append(Subject(user_id=schedule.erase_user_id, email=schedule.erase_email))
    if schedule.erase_extra_email:
        subjects.append(Subject(email=schedule.erase_extra_email))
    return subjects


def _categories(request: DataSubjectRequest) -> list[str] | None:
    return [SERVICE_DATA_CATEGORY] if request.kind == RequestKind.SERVICE_DATA_DELETION else None


def erasure_kept(*, request: DataSubjectRequest) -> list[dict]:
    """What the legal holds keep of the person (`dsar.erasure.erasure_holds`): as fixed just
    before the erasure's first registry step (with the final mail), or, before that, what they
    would keep if it ran now."""
    schedule = getattr(request, "erasure", None)
    if schedule is not None and schedule.final_mail_sent_at is not None:
        return list(schedule.kept or [])
    subject = erasure_subject(request) if request_subject(request) else None
    if subject is None:
        return []
    return erasure_holds(subjects=[subject], categories=_categories(request))


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
            request=request,
            template="erasure_scheduled",
            context={"schedule": schedule, "kept": erasure_kept(request=request)},
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
    due = ErasureSchedule.objects.filter(_runnable(now))
    return list(due.order_by("due_at").values_list("pk", flat=True)[:limit])


def _runnable(now) -> Q:
    """Due erasures, and running ones whose worker died."""
    return Q(state=ErasureSchedule.State.SCHEDULED, due_at__lte=now) | stuck_rows(
        state=ErasureSchedule.State.RUNNING, since="started_at", after=resume_after(), now=now
    )


def _claim(schedule_id: int, now) -> ErasureSchedule | None:
    """Claim a due (or stuck) erasure. The first start fixes whom it erases on the schedule
    itself, while the request and the account still say so."""
    with transaction.atomic():
        schedule = claim_one(
            ErasureSchedule.objects.select_related("request__user").filter(
                _runnable(now), pk=schedule_id
            )
        )
        if schedule is None:
            return None
        fields = ["state", "started_at"]
        if not erasure_subjects(schedule) and request_subject(schedule.request) is not None:
            request = schedule.request
            schedule.erase_user_id, schedule.erase_email, schedule.erase_extra_email = _whom(
                request
            )
            fields += ["erase_user_id", "erase_email", "erase_extra_email"]
        first_start = schedule.state == ErasureSchedule.State.SCHEDULED
        schedule.state = ErasureSchedule.State.RUNNING
        schedule.started_at = now
        schedule.save(update_fields=fields)
        if first_start:
            _erasure_webhook(WebhookEventType.ERASURE_DUE, schedule)
        return schedule


def _erasure_webhook(type: str, schedule: ErasureSchedule) -> None:  # noqa: A002
    """Tell the subscribed systems to erase the person too (due), or that our part is done. The
    address goes with both: afterwards we can no longer say whom a number was."""
    subjects = erasure_subjects(schedule)
    if not subjects:
        return
    request = schedule.request
    data = {**request_webhook_data(request), "categories": _categories(request) or "all"}
    webhook_emit(type=type, subject=subjects[0], data=data, request=request)


def erasure_run(*, schedule_id: int, now=None) -> bool:
    """Run one due erasure: tell the recipients, send the final confirmation while we still
    have the address, erase through the registry, then close the request.

    Resumable from any interruption: whom it erases is read from the schedule (never from the
    request or the account, which the erasure itself blanks), and every step is idempotent."""
    now = now or timezone.now()
    schedule = _claim(schedule_id, now)
    if schedule is None:
        return False
    request = schedule.request
    subjects = erasure_subjects(schedule)
    if not subjects:
        # Started before the schedule kept whom it erases, and its request is blanked since:
        # nothing can tell whom to erase. Left running, for an officer (it is logged).
        logger.error("Erasure %s cannot resume: it does not say whom it erases", schedule.pk)
        return False
    with transaction.atomic():
        recipient_notifications_create(request=request)
    for notification in request.recipient_notifications.exclude(adapter="").filter(
        state__in=[RecipientNotification.State.PENDING, RecipientNotification.State.FAILED]
    ):
        recipient_notification_send(notification_id=notification.pk)
    if schedule.final_mail_sent_at is None:
        # Before any registry step, so every held row is still the person's to count.
        schedule.kept = erasure_holds(subjects=subjects, categories=_categories(request))
        ErasureSchedule.objects.filter(pk=schedule.pk).update(kept=schedule.kept)
        _send_final_confirmation(request, schedule)
        ErasureSchedule.objects.filter(pk=schedule.pk).update(final_mail_sent_at=timezone.now())
    if request.kind == RequestKind.ERASURE:
        # Other systems' parts (connected data stores): rows of their own, run by their workers;
        # the request is completed when the last of them is done. Before the registry step, so
        # the account still holds what they find the person by (a phone number).
        with transaction.atomic():
            for handler in request_part_handlers():
                handler.erasure_started(request=request, subjects=subjects)
    counts = erasure_erase_subjects(subjects=subjects, categories=_categories(request))
    with transaction.atomic():
        schedule = ErasureSchedule.objects.select_for_update().get(pk=schedule.pk)
        if schedule.state != ErasureSchedule.State.RUNNING:
            return False
        schedule.state = ErasureSchedule.State.DONE
        schedule.finished_at = timezone.now()
        # A resumed run counts only what was left: add to what the first runs did.
        schedule.counts = {
            label: (schedule.counts or {}).get(label, 0) + rows for label, rows in counts.items()
        }
        _erasure_webhook(WebhookEventType.ERASURE_DONE, schedule)
        schedule.erase_user_id, schedule.erase_email, schedule.erase_extra_email = None, "", ""
        schedule.save(
            update_fields=[
                "state",
                "finished_at",
                "counts",
                "erase_user_id",
                "erase_email",
                "erase_extra_email",
            ]
        )
        audit_record(
            action="erasure_done",
            subject=subjects[0],
            obj=schedule,
            detail={"rows": sum(counts.values())},
        )
        _complete_if_possible(request)
    return True


def _send_final_confirmation(request: DataSubjectRequest, schedule: ErasureSchedule) -> None:
    """Sent before the erasure itself (the run is outside a transaction, so the mail leaves at
    once): afterwards we no longer have the address. It says what the legal holds keep, and
    links the request page by its signed link (the account is about to go)."""
    if request.kind == RequestKind.SERVICE_DATA_DELETION:
        template = "service_data_deletion_final"
    else:
        template = "erasure_final"
    link = absolute_url(
        reverse("dsar:request_detail", args=[request.public_id]) + "?t=" + view_token(request)
    )
    request_mail_send(
        request=request, template=template, context={"kept": schedule.kept, "request_link": link}
    )


def erasure_complete_if_possible(*, request: DataSubjectRequest) -> None:
    """Complete an erasure request whose work is all done, once nothing else holds it back: the
    parts other apps run (called again when their last part is done) and the connected systems'
    acknowledgements (GDPR Art. 19). Any other request is left as it is. The request's row is
    locked first: two parts finishing at once complete it once."""
    if request.kind not in (RequestKind.ERASURE, RequestKind.SERVICE_DATA_DELETION):
        return
    with transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
        _complete_if_possible(request)


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
