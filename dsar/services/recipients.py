"""Telling the recipients of a person's data about a change (GDPR Art. 19)."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ..claims import claim_one
from ..models import (
    MAX_NOTIFY_ATTEMPTS,
    DataSubjectRequest,
    RecipientNotification,
    RectificationProposal,
)
from ..recipients import Correction, Recipient, adapter_for, recipients_for
from ..registry import rectification_field
from ..wake import job_wake
from .base import audit_record, request_subject


def recipient_notifications_create(
    *, request: DataSubjectRequest, rectification: RectificationProposal | None = None
) -> int:
    """One notification per recipient of the person's data; adapters are woken after commit.
    For an applied correction (`rectification`): one per recipient that holds the field."""
    subject = request_subject(request)
    if subject is None:
        return 0  # detached by an erasure that already created the notifications
    email = request.email or getattr(request.user, "email", "")
    recipients = recipients_for(subject)
    if rectification is not None:
        recipients = [r for r in recipients if r.holds_field(rectification.target)]
    rows = [
        RecipientNotification(
            request=request,
            rectification=rectification,
            recipient_key=recipient.key,
            recipient_name=recipient.name,
            recipient_contact=recipient.contact,
            adapter=recipient.adapter,
            subject_email=email,
        )
        for recipient in recipients
    ]
    created = RecipientNotification.objects.bulk_create(rows, ignore_conflicts=True)
    _wake_recipient_notifications(request)
    return len(created)


def _wake_recipient_notifications(request: DataSubjectRequest) -> None:
    ids = list(
        request.recipient_notifications.exclude(adapter="")
        .filter(state__in=[RecipientNotification.State.PENDING, RecipientNotification.State.FAILED])
        .values_list("pk", flat=True)
    )
    for pk in ids:
        job_wake(task="dsar.tasks.recipient_notify_task", args=[pk])


def recipient_notification_send(*, notification_id: int) -> bool:
    """Send one notification through its adapter. Repeats and lost messages change nothing:
    the row is claimed under a lock and a finished row is left alone."""
    with transaction.atomic():
        notification = claim_one(
            RecipientNotification.objects.select_related("request", "rectification").filter(
                pk=notification_id
            ),
            of=("self", "request"),
        )
        if notification is None or notification.is_finished or not notification.adapter:
            return False
        recipient = Recipient(
            key=notification.recipient_key,
            name=notification.recipient_name,
            adapter=notification.adapter,
            contact=notification.recipient_contact,
        )
        notification.attempts += 1
        try:
            adapter_for(notification.adapter, recipient).notify(
                kind=notification.request.get_kind_display(),
                subject_email=notification.subject_email,
                reference=notification.request.reference,
                correction=notification_correction(notification),
            )
        except Exception as error:  # an adapter may fail in any way; record it and retry later
            notification.state = RecipientNotification.State.FAILED
            notification.last_error = f"{type(error).__name__}: {error}"[:1000]
            notification.save(update_fields=["state", "attempts", "last_error"])
            return False
        notification.state = RecipientNotification.State.SENT
        notification.done_at = timezone.now()
        notification.subject_email = ""
        notification.save(update_fields=["state", "attempts", "done_at", "subject_email"])
        return True


def notification_correction(notification: RecipientNotification) -> Correction | None:
    """For a notice of an applied correction: the field and the corrected value it names."""
    proposal = notification.rectification
    if proposal is None:
        return None
    found = rectification_field(proposal.target)
    return Correction(
        field=str(found[1].verbose_name) if found else proposal.target,
        target=proposal.target,
        value=proposal.proposed_value,
    )


@transaction.atomic
def recipient_notification_mark_done(
    *, notification: RecipientNotification, actor
) -> RecipientNotification:
    """An officer contacted a recipient that has no adapter."""
    notification = RecipientNotification.objects.select_for_update().get(pk=notification.pk)
    if not notification.is_finished:
        notification.state = RecipientNotification.State.DONE
        notification.done_at = timezone.now()
        notification.done_by = actor
        notification.subject_email = ""
        notification.save(update_fields=["state", "done_at", "done_by", "subject_email"])
        audit_record(
            action="recipient_notified_by_hand",
            actor=actor,
            subject=request_subject(notification.request),
            obj=notification,
            detail={"recipient": notification.recipient_key},
        )
    return notification


def recipient_notifications_sweep(*, older_than_minutes: int = 10, limit: int = 500) -> int:
    """Wake notifications whose message was lost or whose last try failed (a beat sweep)."""
    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    ids = list(
        RecipientNotification.objects.exclude(adapter="")
        .filter(
            state__in=[RecipientNotification.State.PENDING, RecipientNotification.State.FAILED],
            created_at__lt=cutoff,
            attempts__lt=MAX_NOTIFY_ATTEMPTS,  # past that, an officer sees the failure in admin
        )
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        job_wake(task="dsar.tasks.recipient_notify_task", args=[pk], after_commit=False)
    return len(ids)
