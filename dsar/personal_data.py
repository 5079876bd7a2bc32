"""The dsar app's own entries in the personal-data registry."""

from datetime import timedelta

from django.db.models import Q
from django.utils.translation import gettext_noop

from .models import (
    ERASED,
    AuditEvent,
    DataSubjectRequest,
    ErasureSchedule,
    ExportFile,
    ProcessingActivity,
    ProcessingBlock,
    RecipientNotification,
    RectificationProposal,
    RequestEvent,
    ThirdPartyTransfer,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from .registry import (
    ErasureStrategy,
    Source,
    Subject,
    email_in,
    no_personal_data,
    personal_data,
    values_in,
)


def _audit_rows(subject):
    refs = {subject.ref}
    if subject.user_id is not None and subject.email:
        refs.add(Subject(email=subject.email).ref)
    return AuditEvent.objects.filter(subject_ref__in=refs).exclude(reason__in=["", ERASED])


def _audit_rows_many(subjects):
    refs = set()
    for subject in subjects:
        refs.add(subject.ref)
        if subject.user_id is not None and subject.email:
            refs.add(Subject(email=subject.email).ref)
    return AuditEvent.objects.filter(values_in("subject_ref", sorted(refs))).exclude(
        reason__in=["", ERASED]
    )


personal_data(
    AuditEvent,
    activity="accountability",
    category=gettext_noop("Records of who handled your data"),
    source=Source.AUTOMATIC,
    export_fields=("at", "action", "actor_kind", "reason"),
    erasure=ErasureStrategy.ANONYMISE,
    anonymise={"reason": ERASED},
    subject_rows=_audit_rows,
    subjects_rows=_audit_rows_many,
    erase_order=95,
)
personal_data(
    ProcessingBlock,
    activity="privacy_requests",
    category=gettext_noop("Restrictions and objections"),
    source=Source.PROVIDED,
    export_fields=("kind", "purpose", "reason", "created_at", "lifted_at"),
    erasure=ErasureStrategy.DELETE,
    user_field="user",
    email_field="email",
    erase_order=20,
)
personal_data(
    DataSubjectRequest,
    activity="privacy_requests",
    category=gettext_noop("Your privacy requests"),
    source=Source.PROVIDED,
    export_fields=(
        "kind",
        "state",
        "email",
        "details",
        "purposes",
        "country",
        "language",
        "filed_at",
        "received_at",
        "due_at",
        "closed_at",
        "outcome",
    ),
    erasure=ErasureStrategy.LEGAL_HOLD,
    legal_hold_reason="Proof that the request was handled (GDPR Art. 5(2) accountability).",
    detach_fields=("user", "email", "details", "country"),
    # Kept: what was asked, the dates and the outcome; nothing that names the person.
    hold_period="Three years after the request is closed.",
    user_field="user",
    email_field="email",
    erase_order=90,
)
personal_data(
    RequestEvent,
    activity="privacy_requests",
    category=gettext_noop("Your privacy requests"),
    source=Source.AUTOMATIC,
    export_fields=("at", "kind", "from_state", "to_state"),
    erasure=ErasureStrategy.ANONYMISE,
    anonymise={"text": "[erased]"},
    user_field="request__user",
    email_field="request__email",
    erase_order=80,
)
personal_data(
    RecipientNotification,
    activity="privacy_requests",
    category=gettext_noop("Your privacy requests"),
    source=Source.AUTOMATIC,
    export_fields=("recipient_name", "state", "created_at", "done_at"),
    erasure=ErasureStrategy.LEGAL_HOLD,
    legal_hold_reason=(
        "GDPR Art. 19: we must tell each recipient about your erasure; the address is kept only "
        "until that recipient has been told."
    ),
    hold_fields=("subject_email",),
    hold_period="Only until that recipient has been told; then the address is cleared.",
    user_field="request__user",
    email_field="subject_email",
    erase_order=85,
)
personal_data(
    RectificationProposal,
    activity="privacy_requests",
    category=gettext_noop("Your privacy requests"),
    source=Source.PROVIDED,
    export_fields=("target", "proposed_value", "decision", "decided_at"),
    erasure=ErasureStrategy.ANONYMISE,
    anonymise={"proposed_value": "[erased]"},
    user_field="request__user",
    email_field="request__email",
    erase_order=80,
)
personal_data(
    ExportFile,
    activity="privacy_requests",
    category=gettext_noop("Your privacy requests"),
    source=Source.AUTOMATIC,
    export_fields=("kind", "state", "ready_at", "released_at", "expires_at"),
    erasure=ErasureStrategy.DELETE,
    user_field="request__user",
    email_field="request__email",
    erase_order=70,  # retention: files deleted by the export sweep, which keeps the row as a record
)
personal_data(
    ThirdPartyTransfer,
    activity="privacy_requests",
    category=gettext_noop("Your privacy requests"),
    source=Source.PROVIDED,
    export_fields=(
        "recipient_email",
        "recipient_name",
        "state",
        "created_at",
        "sent_at",
        "expires_at",
        "received_at",
        "revoked_at",
    ),
    erasure=ErasureStrategy.DELETE,
    user_field="request__user",
    email_field="request__email",
    retention_field="created_at",
    retention_period=timedelta(days=365),
    erase_order=65,  # before the exports and requests it points at
)


def _erasure_schedule_rows(subject):
    """Erasures that name the person, except a running one: that row is the erasure's own job,
    and the job clears whom it erased when it is done."""
    about = Q()
    if subject.user_id is not None:
        about |= Q(erase_user_id=subject.user_id)
    if subject.email:
        about |= Q(erase_email__iexact=subject.email) | Q(erase_extra_email__iexact=subject.email)
    if not about:
        return ErasureSchedule.objects.none()
    return ErasureSchedule.objects.filter(about).exclude(state=ErasureSchedule.State.RUNNING)


def _erasure_schedule_rows_many(subjects):
    """`_erasure_schedule_rows` for many subjects in one condition (without it, the registry
    ORs one queryset per subject: its Python cost grows with the square of their number)."""
    emails = sorted({s.email for s in subjects if s.email})
    user_ids = sorted({s.user_id for s in subjects if s.user_id is not None})
    about = Q()
    if user_ids:
        about |= values_in("erase_user_id", user_ids)
    if emails:
        about |= email_in("erase_email", emails) | email_in("erase_extra_email", emails)
    if not about:
        return ErasureSchedule.objects.none()
    return ErasureSchedule.objects.filter(about).exclude(state=ErasureSchedule.State.RUNNING)


personal_data(
    ErasureSchedule,
    activity="privacy_requests",
    category=gettext_noop("Your privacy requests"),
    source=Source.AUTOMATIC,
    export_fields=("state", "due_at", "started_at", "finished_at"),
    erasure=ErasureStrategy.ANONYMISE,
    anonymise={"erase_user_id": None, "erase_email": "", "erase_extra_email": ""},
    subject_rows=_erasure_schedule_rows,
    subjects_rows=_erasure_schedule_rows_many,
    erase_order=10,
)


no_personal_data(
    ProcessingActivity,
    reason="What the company does with data and why, in words: about no one in particular.",
)
personal_data(
    ProcessingActivity.history.model,
    activity="accountability",
    category=gettext_noop("Records of who handled your data"),
    source=Source.AUTOMATIC,
    export_fields=("history_date", "history_type", "code"),
    erasure=ErasureStrategy.ANONYMISE,
    anonymise={"history_user": None},
    user_field="history_user",
    erase_order=95,
)


def _webhook_event_rows(subject):
    about = Q()
    if subject.user_id is not None:
        about |= Q(account_id=subject.user_id)
    if subject.email:
        about |= Q(subject_email__iexact=subject.email)
    return _webhook_events_about(about)


def _webhook_event_rows_many(subjects):
    user_ids = sorted({s.user_id for s in subjects if s.user_id is not None})
    emails = sorted({s.email for s in subjects if s.email})
    about = Q()
    if user_ids:
        about |= values_in("account_id", user_ids)
    if emails:
        about |= email_in("subject_email", emails)
    return _webhook_events_about(about)


def _webhook_events_about(about: Q):
    """Events about the person, except those a subscribed system has not acknowledged yet: they
    keep what it needs to find the person until it has (an erasure's own events above all), and
    the delivery clears the address then (dsar.services.webhooks)."""
    if not about:
        return WebhookEvent.objects.none()
    waiting = WebhookDelivery.objects.filter(endpoint__active=True).exclude(
        state=WebhookDelivery.State.DELIVERED
    )
    return WebhookEvent.objects.filter(about).exclude(pk__in=waiting.values("event_id"))


personal_data(
    WebhookEvent,
    activity="privacy_requests",
    category=gettext_noop("Your privacy requests"),
    source=Source.AUTOMATIC,
    export_fields=("type", "occurred_at"),
    erasure=ErasureStrategy.ANONYMISE,
    anonymise={"account_id": None, "subject_email": ""},
    subject_rows=_webhook_event_rows,
    subjects_rows=_webhook_event_rows_many,
    erase_order=12,
)
no_personal_data(WebhookEndpoint, reason="The addresses of the company's own systems.")
no_personal_data(WebhookDelivery, reason="Delivery states of events, by id.")
no_personal_data(WebhookAttempt, reason="Status codes and errors of delivery tries.")
