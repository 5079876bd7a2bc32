"""Webhooks out (docs/webhooks.md): officers subscribe the company's other systems to events;
each change writes its event to the outbox in its own transaction (`webhook_emit`), with one
delivery row per subscribed endpoint; workers send them signed (Standard Webhooks), retry with
backoff, and record every attempt. An erasure or a restriction is not done until every
subscribed system has acknowledged it (GDPR Art. 19): see `webhook_request_release`."""

from collections.abc import Iterable, Sequence
from datetime import timedelta

from cryptography.fernet import InvalidToken
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..app_settings import app_settings
from ..claims import claim_one
from ..models import (
    ART19_EVENT_TYPES,
    SUBSCRIBABLE_EVENT_TYPES,
    DataSubjectRequest,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)
from ..registry import Subject
from ..selectors import webhook_systems_waiting, webhook_unacknowledged
from ..textinput import text_refuse_unstorable
from ..wake import job_wake
from ..webhooks import (
    SendResult,
    secret_decrypt,
    secret_encrypt,
    secret_new,
    send,
    url_refusal,
)
from .base import RequestError, audit_record

DELIVER_TASK = "dsar.tasks.webhook_deliver_task"
# A delivery claimed this long ago and not recorded lost its worker (the task's hard time limit
# is far shorter): the sweep queues it again. The receiver may then get it twice, by one id.
STUCK_AFTER = timedelta(minutes=5)
# Events whose receivers must find the person even after we no longer can: the address goes
# with them, also for account holders (docs/webhooks.md, "What a payload holds").
EMAIL_ALWAYS = (
    WebhookEventType.ERASURE_DUE,
    WebhookEventType.ERASURE_DONE,
    WebhookEventType.ERASURE_PART_DUE,
    WebhookEventType.ACCESS_PART_DUE,
)


# --- Endpoints (officers, or the API) -----------------------------------------------------------


def webhook_endpoint_check(
    *, url: str, events: Sequence[str], description: str = ""
) -> tuple[str, list[str]]:
    """The one check of an endpoint (the admin form shows its refusals): the address (see
    `dsar.webhooks.url_refusal`) and the events. Returns the cleaned address and events in the
    list's order; raises RequestError."""
    text_refuse_unstorable(url, description, *events)
    url = (url or "").strip()
    refusal = url_refusal(url)
    if refusal:
        raise RequestError(refusal)
    codes = [code for code, _label in SUBSCRIBABLE_EVENT_TYPES]
    unknown = sorted(set(events) - set(codes))
    if unknown:
        raise RequestError(
            _("Unknown event: %(codes)s. Choose from the list.") % {"codes": ", ".join(unknown)}
        )
    if not events:
        raise RequestError(_("Choose at least one event to send."))
    return url, [code for code in codes if code in events]


@transaction.atomic
def webhook_endpoint_create(
    *, url: str, events: Sequence[str], description: str = "", active: bool = True, actor
) -> tuple[WebhookEndpoint, str]:
    """Subscribe a system. Returns the endpoint and its new secret, which is shown this once and
    kept only encrypted. Bad input raises RequestError and creates nothing."""
    url, events = webhook_endpoint_check(url=url, events=events, description=description)
    secret = secret_new()
    endpoint = WebhookEndpoint(
        url=url,
        events=events,
        description=description.strip(),
        active=active,
        secret_encrypted=secret_encrypt(secret),
    )
    endpoint.full_clean()
    endpoint.save()
    audit_record(
        action="webhook_endpoint_created", actor=actor, obj=endpoint, detail={"events": events}
    )
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str,
    events: Sequence[str],
    description: str = "",
    active: bool = True,
    actor,
) -> WebhookEndpoint:
    """Change an endpoint. Switching one off stops its deliveries: the events and requests that
    waited for it go on without it."""
    url, events = webhook_endpoint_check(url=url, events=events, description=description)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.url, endpoint.events = url, events
    endpoint.description, endpoint.active = description.strip(), active
    endpoint.full_clean()
    endpoint.save()
    audit_record(
        action="webhook_endpoint_changed",
        actor=actor,
        obj=endpoint,
        detail={"events": events, "active": active},
    )
    if not active:
        _endpoint_no_longer_awaited(endpoint)
    return endpoint


@transaction.atomic
def webhook_endpoint_deactivate(*, endpoint: WebhookEndpoint, actor) -> WebhookEndpoint:
    """Switch an endpoint off (endpoints are never deleted: their deliveries stay to see). Its
    address is not checked again, so an endpoint whose host is gone can still be switched off.
    Nothing more is sent to it, and what waited for it goes on without it. A repeat does
    nothing."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if not endpoint.active:
        return endpoint
    endpoint.active = False
    endpoint.save(update_fields=["active"])
    audit_record(action="webhook_endpoint_switched_off", actor=actor, obj=endpoint)
    _endpoint_no_longer_awaited(endpoint)
    return endpoint


def _endpoint_no_longer_awaited(endpoint: WebhookEndpoint) -> None:
    """A switched-off endpoint is waited for no more: the events (and requests) whose only
    missing acknowledgement was its own go on."""
    waited = WebhookDelivery.objects.filter(endpoint=endpoint).exclude(
        state=WebhookDelivery.State.DELIVERED
    )
    for event in WebhookEvent.objects.filter(pk__in=waited.values("event_id")):
        _event_acknowledged(event)


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint, actor) -> str:
    """A new secret for the endpoint, shown once; the old one stops signing at once."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    secret = secret_new()
    endpoint.secret_encrypted = secret_encrypt(secret)
    endpoint.secret_rotated_at = timezone.now()
    endpoint.save(update_fields=["secret_encrypted", "secret_rotated_at"])
    audit_record(action="webhook_secret_rotated", actor=actor, obj=endpoint)
    return secret


# --- The outbox ---------------------------------------------------------------------------------


def webhook_emit(
    *,
    type: str,  # noqa: A002 - the payload's own name for it
    subject: Subject | None = None,
    data: dict | None = None,
    request: DataSubjectRequest | None = None,
    endpoint_ids: Sequence[int] | None = None,
) -> WebhookEvent | None:
    """Write an event and its deliveries, in the caller's transaction (so a change that rolls
    back sends nothing), and wake the workers after the commit. Nothing is written when no
    active endpoint subscribes to `type`; with `endpoint_ids`, the event goes to those (active)
    endpoints only, whatever they subscribe to: an event for one system (TARGETED_EVENT_TYPES).

    `data` holds ids, codes and dates only. Whom it is about: the account id, and the address
    only for a person without an account, or for an erasure (EMAIL_ALWAYS)."""
    if type not in WebhookEventType.values:
        raise ValueError(f"Unknown webhook event type {type!r}")
    active = WebhookEndpoint.objects.filter(active=True)
    if endpoint_ids is not None:
        endpoints = list(active.filter(pk__in=endpoint_ids).values_list("pk", flat=True))
    else:
        endpoints = [pk for pk, events in active.values_list("pk", "events") if type in events]
    if not endpoints:
        return None
    account_id, email = None, ""
    if subject is not None:
        account_id = subject.user_id
        if subject.user_id is None or type in EMAIL_ALWAYS:
            email = subject.email
    with transaction.atomic():
        event = WebhookEvent.objects.create(
            type=type,
            data=data or {},
            account_id=account_id,
            subject_email=email,
            request=request,
        )
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(event=event, endpoint_id=pk, due_at=event.occurred_at)
            for pk in endpoints
        )
    for delivery in deliveries:
        job_wake(task=DELIVER_TASK, args=[delivery.pk])
    return event


def webhook_payload(event: WebhookEvent) -> dict:
    """The body of every delivery of the event (docs/webhooks.md, "The payload")."""
    data = dict(event.data)
    if event.account_id is not None:
        data["account_id"] = event.account_id
    if event.subject_email:
        data["email"] = event.subject_email
    return {
        "id": event.message_id,
        "type": event.type,
        "timestamp": event.occurred_at.isoformat(),
        "data": data,
    }


def request_webhook_data(request: DataSubjectRequest) -> dict:
    """What events about a request say of it: ids, kind, state and dates, nothing personal."""
    return {
        "request": {
            "id": str(request.public_id),
            "reference": request.reference,
            "kind": request.kind,
            "state": request.state,
            "due_at": request.due_at.isoformat() if request.due_at else None,
        }
    }


# --- Delivery (a worker) ------------------------------------------------------------------------


def webhook_backoff(tries: int) -> timedelta:
    """The wait after the `tries`-th failed try: WEBHOOK_BACKOFF_SECONDS, doubling each time, at
    most WEBHOOK_BACKOFF_MAX_SECONDS."""
    seconds = app_settings.WEBHOOK_BACKOFF_SECONDS * 2 ** max(0, tries - 1)
    return timedelta(seconds=min(seconds, app_settings.WEBHOOK_BACKOFF_MAX_SECONDS))


def _delivery_claim(delivery_id: int, now) -> WebhookDelivery | None:
    """Claim one due delivery for this worker: locked, skipped if another worker holds it, and
    only while it is still waiting and due, so a repeated or late message does nothing."""
    with transaction.atomic():
        delivery = claim_one(
            WebhookDelivery.objects.select_related("event", "endpoint").filter(
                pk=delivery_id,
                state=WebhookDelivery.State.PENDING,
                due_at__lte=now,
                endpoint__active=True,
            )
        )
        if delivery is None:
            return None
        delivery.state = WebhookDelivery.State.SENDING
        delivery.claimed_at = now
        delivery.tries += 1
        delivery.save(update_fields=["state", "claimed_at", "tries"])
        return delivery


def webhook_deliver(*, delivery_id: int, now=None) -> bool:
    """Send one due delivery and record the attempt. True when the system acknowledged it.
    The HTTP call runs outside any transaction; the claim and the record are short ones."""
    delivery = _delivery_claim(delivery_id, now or timezone.now())
    if delivery is None:
        return False
    try:
        secret = secret_decrypt(delivery.endpoint.secret_encrypted)
    except InvalidToken:
        result = SendResult(
            None,
            _(
                "The endpoint's secret cannot be read (the WEBHOOK_SECRET_KEYS changed): give "
                "the endpoint a new secret."
            ),
            "cryptography.fernet.InvalidToken",
            0,
        )
    else:
        result = send(
            url=delivery.endpoint.url,
            secret=secret,
            message_id=delivery.event.message_id,
            payload=webhook_payload(delivery.event),
        )
    return _delivery_record(delivery, result)


@transaction.atomic
def _delivery_record(delivery: WebhookDelivery, result: SendResult) -> bool:
    WebhookAttempt.objects.create(
        delivery_id=delivery.pk,
        status_code=result.status_code,
        error=result.error,
        detail=result.detail,
        duration_ms=result.duration_ms,
    )
    locked = (
        WebhookDelivery.objects.select_for_update()
        .filter(pk=delivery.pk, state=WebhookDelivery.State.SENDING, claimed_at=delivery.claimed_at)
        .first()
    )
    if locked is None:
        return False  # handed out again by the sweep meanwhile: that try records itself
    now = timezone.now()
    locked.last_status_code = result.status_code
    locked.last_error = result.error
    fields = ["state", "last_status_code", "last_error"]
    if result.acknowledged:
        locked.state = WebhookDelivery.State.DELIVERED
        locked.delivered_at = now
        locked.save(update_fields=[*fields, "delivered_at"])
        _event_acknowledged(delivery.event)
        return True
    if locked.tries >= app_settings.WEBHOOK_MAX_ATTEMPTS:
        locked.state = WebhookDelivery.State.FAILED
        audit_record(
            action="webhook_delivery_failed",
            obj=locked,
            detail={"event": delivery.event.type, "tries": locked.tries},
        )
    else:
        locked.state = WebhookDelivery.State.PENDING
        locked.due_at = now + webhook_backoff(locked.tries)
        fields.append("due_at")
    locked.save(update_fields=fields)
    return False


def _event_acknowledged(event: WebhookEvent) -> None:
    """Every subscribed system has it: the address it carried is no longer needed, and a request
    that waited only for this goes on."""
    if webhook_unacknowledged(event.deliveries.all()).exists():
        return
    if event.subject_email:
        WebhookEvent.objects.filter(pk=event.pk).update(subject_email="")
    if event.type in ART19_EVENT_TYPES and event.request_id:
        webhook_request_release(request_id=event.request_id)


def webhook_request_release(*, request_id: int) -> None:
    """The last acknowledgement a request waited for has come: an erasure whose own part is done
    is completed now (and the person told); a restriction is completed by its officer."""
    from .erasure import erasure_complete_if_possible

    request = DataSubjectRequest.objects.filter(pk=request_id).first()
    if request is not None and not webhook_systems_waiting(request):
        erasure_complete_if_possible(request=request)


def webhook_deliveries_sweep(*, now=None, limit: int = 500) -> int:
    """The beat sweep: queue again what lost its worker, and wake every delivery that is due (a
    retry whose wait is over, or one whose message was lost)."""
    now = now or timezone.now()
    WebhookDelivery.objects.filter(
        state=WebhookDelivery.State.SENDING, claimed_at__lt=now - STUCK_AFTER
    ).update(state=WebhookDelivery.State.PENDING, due_at=now)
    ids = list(
        WebhookDelivery.objects.filter(
            state=WebhookDelivery.State.PENDING, due_at__lte=now, endpoint__active=True
        )
        .order_by("due_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        job_wake(task=DELIVER_TASK, args=[pk], after_commit=False)
    return len(ids)


def webhook_deliveries_replay(*, deliveries: Iterable[WebhookDelivery], actor) -> int:
    """Send deliveries again, with the same event id (receivers deduplicate by it): an
    acknowledged one because the receiver lost it, a failed one once its system is back.
    One being sent right now is left alone. Returns how many were queued."""
    queued = 0
    with transaction.atomic():
        now = timezone.now()
        rows = WebhookDelivery.objects.select_for_update().filter(pk__in=[d.pk for d in deliveries])
        for delivery in rows.exclude(state=WebhookDelivery.State.SENDING):
            delivery.state = WebhookDelivery.State.PENDING
            delivery.due_at = now
            delivery.tries = 0
            delivery.claimed_at = None
            delivery.save(update_fields=["state", "due_at", "tries", "claimed_at"])
            audit_record(action="webhook_delivery_replayed", actor=actor, obj=delivery)
            job_wake(task=DELIVER_TASK, args=[delivery.pk])
            queued += 1
    return queued
