"""The life of a data-subject request: filing, confirmation, the state machine, deadlines,
extensions, assignment, reminders and the officer's decisions."""

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .. import registry
from ..app_settings import app_settings
from ..claims import claim_due
from ..deadlines import due_after_receipt
from ..mail import absolute_url, request_mail_send, staff_mail_send
from ..models import (
    CLOSED_STATES,
    OPEN_STATES,
    DataSubjectRequest,
    ErasureSchedule,
    ProcessingBlock,
    RecipientNotification,
    RectificationProposal,
    RequestChannel,
    RequestEvent,
    RequestKind,
    RequestState,
    ThirdPartyTransfer,
    WebhookEventType,
)
from ..purposes import (
    ALL_USES,
    ALL_USES_BLOCK,
    immediate_objection_uses,
    objection_refused_message,
    objection_uses_clean,
    processing_use_label,
    processing_uses_clean,
)
from ..registry import Subject
from ..request_parts import request_part_handlers
from ..selectors import open_requests_of, webhook_wait_words
from ..staff import staff_can_work_requests
from ..textinput import text_refuse_unstorable
from .base import RequestError, _event, audit_record, request_subject
from .blocks import processing_block_add
from .erasure import erasure_schedule
from .exports import EXPORT_KINDS, export_completion_blockers, exports_create
from .recipients import recipient_notifications_create
from .rectification import rectification_propose, rectification_value_check
from .transfers import transfer_create
from .webhooks import request_webhook_data, webhook_emit

# --- Data-subject requests -----------------------------------------------------------------

CONFIRM_SALT = "dsar.request.confirm"

TRANSITIONS: dict[str, set[str]] = {
    RequestState.AWAITING_CONFIRMATION: {
        RequestState.RECEIVED,
        RequestState.LAPSED,
        RequestState.WITHDRAWN,
    },
    RequestState.RECEIVED: {RequestState.VERIFIED, RequestState.REJECTED, RequestState.WITHDRAWN},
    RequestState.VERIFIED: {
        RequestState.IN_PROGRESS,
        RequestState.REJECTED,
        RequestState.WITHDRAWN,
    },
    RequestState.IN_PROGRESS: {
        RequestState.COMPLETED,
        RequestState.REJECTED,
        RequestState.WITHDRAWN,
    },
}


def _filing_language(user) -> str:
    """The language the person reads: their account's, else the one they filed in. (A request an
    officer logs from a letter or call has none: the default language.)"""
    language = getattr(user, "language", "") or translation.get_language() or ""
    return language if language in dict(settings.LANGUAGES) else ""


def _open_duplicate(*, kind: str, user, email: str) -> DataSubjectRequest | None:
    return open_requests_of(kind=kind, user=user, email=email).select_for_update().first()


def _start_clock(request: DataSubjectRequest) -> None:
    """The deadline of the person's jurisdiction, counted from the day we received it."""
    due = due_after_receipt(
        received_at=request.received_at,
        verified_at=request.verified_at,
        pauses=app_settings.CLOCK_PAUSES_UNTIL_VERIFIED,
        rule=request.deadline_rule,
    )
    if due is not None and request.original_due_at is None:
        request.original_due_at = request.due_at = due


@transaction.atomic
def dsar_request_file(
    *,
    kind: str,
    user=None,
    email: str = "",
    details: str = "",
    purposes: Sequence[str] = (),
    country: str = "",
    region: str = "",
    rectification_target: str = "",
    rectification_value: str = "",
    recipient_email: str = "",
    recipient_key: str = "",
) -> tuple[DataSubjectRequest, bool]:
    """File a request. Returns (request, joined): a second open request of the same kind by the
    same person is joined to the first instead of opening another.

    An account holder signed in is identified already; someone with only an email address must
    confirm it through the link we mail before the request counts as received. A portability
    request may name a recipient for the package (an email address or an integration's key):
    if that is refused, nothing is filed either.
    """
    text_refuse_unstorable(
        kind, email, details, country, region, rectification_target, rectification_value
    )
    if kind not in RequestKind.values:
        raise RequestError(_("Choose what you are asking for."))
    purposes = _purposes_checked(kind, purposes)
    if user is None and not email:
        raise RequestError(_("Give the email address we should reply to."))
    email = user.email if user is not None else email.strip()
    if not country and user is not None:
        # The deadline follows the person's jurisdiction: their profile's country by default.
        country = str(getattr(user, "country", "") or "")
    if kind != RequestKind.RECTIFICATION:
        rectification_target = rectification_value = ""
    if rectification_target:
        rectification_value = rectification_value_check(
            target=rectification_target, value=rectification_value
        )
    duplicate = _open_duplicate(kind=kind, user=user, email=email)
    if duplicate is not None:
        _event(duplicate, RequestEvent.Kind.JOINED, text=details)
        _join_purposes(duplicate, purposes)
        audit_record(
            action="request_joined", actor=user, subject=request_subject(duplicate), obj=duplicate
        )
        if rectification_target:
            rectification_propose(
                request=duplicate,
                target=rectification_target,
                value=rectification_value,
                actor=user,
            )
        _name_recipient(duplicate, user, recipient_email, recipient_key)
        return duplicate, True

    now = timezone.now()
    request = DataSubjectRequest(
        kind=kind,
        user=user,
        email=email,
        details=details,
        purposes=purposes,
        country=country,
        region=region.strip().upper(),
        language=_filing_language(user),
    )
    if user is not None:
        request.state = RequestState.VERIFIED
        request.received_at = request.verified_at = now
        _start_clock(request)
    else:
        request.state = RequestState.AWAITING_CONFIRMATION
    request.full_clean()
    request.save()
    if rectification_target:
        rectification_propose(
            request=request, target=rectification_target, value=rectification_value, actor=user
        )
    _event(request, RequestEvent.Kind.FILED, actor=user, to_state=request.state)
    _request_webhook(WebhookEventType.REQUEST_FILED, request)
    audit_record(action="request_filed", actor=user, subject=request_subject(request), obj=request)
    _name_recipient(request, user, recipient_email, recipient_key)
    if user is None:
        token = signing.dumps(str(request.public_id), salt=CONFIRM_SALT)
        request_mail_send(
            request=request,
            template="confirm",
            context={
                "confirm_url": absolute_url(reverse("dsar:request_confirm", args=[token])),
                "confirm_days": app_settings.CONFIRMATION_DAYS,
            },
        )
    else:
        request_mail_send(request=request, template="received")
        _on_received(request)
    return request, False


def _name_recipient(request: DataSubjectRequest, user, email: str, key: str) -> None:
    if email.strip() or key.strip():
        transfer_create(request=request, actor=user, recipient_email=email, recipient_key=key)


@transaction.atomic
def dsar_request_confirm(*, token: str) -> DataSubjectRequest:
    """Confirm an email-only request from the link mailed to its address."""
    try:
        public_id = signing.loads(
            token, salt=CONFIRM_SALT, max_age=timedelta(days=app_settings.CONFIRMATION_DAYS)
        )
    except signing.SignatureExpired:
        raise RequestError(_("This link has expired. Please file your request again.")) from None
    except signing.BadSignature:
        raise RequestError(_("This link is not valid. Check that you copied all of it.")) from None
    request = DataSubjectRequest.objects.select_for_update().filter(public_id=public_id).first()
    if request is None or request.state == RequestState.LAPSED:
        raise RequestError(_("This request no longer exists. Please file it again."))
    now = timezone.now()
    if request.state == RequestState.AWAITING_CONFIRMATION:
        # Following the link proves the address is theirs: the request is received and the
        # identity confirmed, both at once.
        request.received_at = now
        _transition(request, RequestState.RECEIVED, actor=None)
        _transition(request, RequestState.VERIFIED, actor=None)
        request.verified_at = now
        _start_clock(request)
        request.save()
        request_mail_send(request=request, template="received")
        _on_received(request)
    elif request.state == RequestState.RECEIVED and request.verified_at is None:
        # A request an officer logged: its clock runs from the day we received it already.
        _transition(request, RequestState.VERIFIED, actor=None)
        request.verified_at = now
        _start_clock(request)
        request.save()
        request_mail_send(request=request, template="transition", context={"reason": ""})
    return request  # confirming twice changes nothing


@transaction.atomic
def dsar_request_log(
    *,
    kind: str,
    email: str,
    channel: str,
    received_on: date,
    actor,
    details: str = "",
    purposes: Sequence[str] = (),
    country: str = "",
    region: str = "",
    identity_confirmed: bool = False,
) -> tuple[DataSubjectRequest, bool]:
    """Record a request an officer received by email, letter, phone or in person.

    The deadline runs from the day it was received, not from today. The person is mailed the
    reference, the page to follow the request and, unless the officer has confirmed their
    identity already, a link to confirm it. Returns (request, joined) like filing does.
    """
    text_refuse_unstorable(kind, email, channel, details, country, region)
    if not staff_can_work_requests(actor):
        raise RequestError(_("You are not allowed to work on requests."))
    if kind not in RequestKind.values:
        raise RequestError(_("Choose what the person is asking for."))
    purposes = _purposes_checked(kind, purposes)
    if channel not in RequestChannel.values or channel == RequestChannel.WEB:
        raise RequestError(_("Choose how the request reached us."))
    email = (email or "").strip()
    if not email:
        raise RequestError(_("Give the email address we should reply to."))
    today = timezone.localdate()
    if received_on > today:
        raise RequestError(_("The date received cannot be in the future."))
    if received_on < today - timedelta(days=366):
        raise RequestError(_("A request received more than a year ago cannot be logged here."))
    duplicate = _open_duplicate(kind=kind, user=None, email=email)
    if duplicate is not None:
        _event(duplicate, RequestEvent.Kind.JOINED, actor=actor, text=details)
        _join_purposes(duplicate, purposes)
        audit_record(
            action="request_joined", actor=actor, subject=request_subject(duplicate), obj=duplicate
        )
        return duplicate, True
    now = timezone.now()
    request = DataSubjectRequest(
        kind=kind,
        email=email,
        details=details,
        purposes=purposes,
        country=country,
        region=region.strip().upper(),
        channel=channel,
        state=RequestState.VERIFIED if identity_confirmed else RequestState.RECEIVED,
        received_at=timezone.make_aware(datetime.combine(received_on, time.min)),
        verified_at=now if identity_confirmed else None,
    )
    _start_clock(request)
    request.full_clean()
    request.save()
    _event(request, RequestEvent.Kind.FILED, actor=actor, to_state=request.state)
    _request_webhook(WebhookEventType.REQUEST_FILED, request)
    audit_record(
        action="request_logged",
        actor=actor,
        subject=request_subject(request),
        obj=request,
        detail={
            "channel": channel,
            "received_on": received_on.isoformat(),
            "identity_confirmed": identity_confirmed,
        },
    )
    context = {"channel": request.get_channel_display(), "received_on": received_on}
    if not identity_confirmed:
        token = signing.dumps(str(request.public_id), salt=CONFIRM_SALT)
        context["confirm_url"] = absolute_url(reverse("dsar:request_confirm", args=[token]))
        context["confirm_days"] = app_settings.CONFIRMATION_DAYS
    request_mail_send(request=request, template="logged", context=context)
    _on_received(request)
    return request, False


BLOCK_KINDS = (RequestKind.RESTRICTION, RequestKind.OBJECTION)


def _purposes_checked(kind: str, purposes: Sequence[str]) -> list[str]:
    """The uses a restriction or objection names, checked against the uses we have."""
    if isinstance(purposes, str):
        purposes = [purposes] if purposes else []
    purposes = list(purposes)
    if kind not in BLOCK_KINDS:
        if purposes:
            raise RequestError(_("Name uses of your data only for a restriction or an objection."))
        return []
    if not all(isinstance(code, str) for code in purposes):
        raise RequestError(_("Choose the uses of your data from the list."))
    text_refuse_unstorable(*purposes)
    try:
        cleaned = processing_uses_clean(purposes)
    except ValueError as error:
        raise RequestError(
            _("“%(code)s” is not one of the uses of your data we have. Choose from the list.")
            % {"code": error.args[0]}
        ) from None
    if kind == RequestKind.OBJECTION:
        try:
            objection_uses_clean(cleaned)
        except ValueError as error:
            raise RequestError(objection_refused_message(error.args[0])) from None
    return cleaned or [ALL_USES]


def _join_purposes(request: DataSubjectRequest, purposes: list[str]) -> None:
    """A restriction or objection filed again may name more uses: none of them is lost."""
    if request.kind not in BLOCK_KINDS or not purposes:
        return
    joined = processing_uses_clean(request.purposes + purposes)
    if joined != request.purposes:
        request.purposes = joined
        request.save(update_fields=["purposes"])
    if request.received_at is not None:
        _on_received(request)


def _block_code(code: str) -> str:
    return ALL_USES_BLOCK if code == ALL_USES else code


def _on_received(request: DataSubjectRequest) -> None:
    """What some kinds do at once, without waiting for an officer."""
    if request.kind == RequestKind.OBJECTION:
        _object_to_direct_marketing_now(request)


def _object_to_direct_marketing_now(request: DataSubjectRequest) -> None:
    """An objection to direct marketing takes effect at once (GDPR Art. 21(3)), whatever else
    the objection names, and the person is told; an officer decides the rest."""
    existing = set(request.processing_blocks.values_list("purpose", flat=True))
    stopped = []
    for code in immediate_objection_uses(request.purposes):
        if code in existing:
            continue
        processing_block_add(
            kind=ProcessingBlock.Kind.OBJECTION,
            subject=request_subject(request),
            purpose=code,
            reason=f"Request {request.reference}",
            actor=request.user,
            request=request,
        )
        stopped.append(processing_use_label(code))
    if stopped:
        rest = bool(request_blocks_missing(request))  # what an officer decides
        request_mail_send(
            request=request, template="objection_applied", context={"uses": stopped, "rest": rest}
        )


def request_blocks_missing(request: DataSubjectRequest) -> list[str]:
    """The uses a restriction or objection names that no block of the request stops yet."""
    if request.kind not in BLOCK_KINDS:
        return []
    existing = set(request.processing_blocks.values_list("purpose", flat=True))
    return [code for code in request.purposes or [ALL_USES] if _block_code(code) not in existing]


def _ensure_allowed(request: DataSubjectRequest, to_state: str) -> None:
    if to_state not in TRANSITIONS.get(request.state, set()):
        raise RequestError(
            _("A request that is “%(from)s” cannot become “%(to)s”.")
            % {
                "from": RequestState(request.state).label,
                "to": RequestState(to_state).label,
            }
        )


def _transition(request: DataSubjectRequest, to_state: str, *, actor, reason: str = "") -> None:
    _ensure_allowed(request, to_state)
    from_state = request.state
    request.state = to_state
    if to_state in CLOSED_STATES:
        request.closed_at = timezone.now()
        # Recipients named for a package that will now never come: nothing was sent to them,
        # so their addresses are not kept (the audit log keeps that they were named).
        request.transfers.filter(state=ThirdPartyTransfer.State.WAITING).delete()
    _event(
        request,
        RequestEvent.Kind.TRANSITION,
        actor=actor,
        from_state=from_state,
        to_state=to_state,
        text=reason,
    )
    audit_record(
        action=f"request_{to_state}",
        actor=actor,
        subject=request_subject(request),
        obj=request,
        reason=reason,
        detail={"from": from_state},
    )
    _request_webhook(WebhookEventType.REQUEST_STATE_CHANGED, request, from_state=from_state)
    if to_state == RequestState.COMPLETED:
        _request_webhook(WebhookEventType.REQUEST_COMPLETED, request)


def _request_webhook(type: str, request: DataSubjectRequest, **extra) -> None:  # noqa: A002
    """Tell the subscribed systems about the request: by its id and the account's, never by the
    address (docs/webhooks.md)."""
    subject = Subject(user_id=request.user_id) if request.user_id else None
    data = {**request_webhook_data(request), **extra}
    webhook_emit(type=type, subject=subject, data=data, request=request)


@transaction.atomic
def dsar_request_transition(
    *, request: DataSubjectRequest, to_state: str, actor, reason: str = ""
) -> DataSubjectRequest:
    """Move a request along its state machine, mail the person and write the audit log.

    Illegal moves raise RequestError and change nothing.
    """
    text_refuse_unstorable(to_state, reason)
    request = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    reason = reason.strip()
    if to_state not in RequestState.values:
        raise RequestError(_("Unknown state."))
    _ensure_allowed(request, to_state)
    if to_state == RequestState.REJECTED and not reason:
        raise RequestError(_("Say why the request is rejected: the person is told the reason."))
    if to_state == RequestState.COMPLETED:
        blockers = request_completion_blockers(request)
        if blockers:
            raise RequestError(" ".join(blockers))
    _transition(request, to_state, actor=actor, reason=reason)
    if to_state == RequestState.VERIFIED:
        request.verified_at = timezone.now()
        _start_clock(request)
    if to_state in (RequestState.REJECTED, RequestState.COMPLETED):
        request.outcome = reason or request.outcome
    request.save()
    request_mail_send(request=request, template="transition", context={"reason": reason})
    return request


def request_completion_blockers(request: DataSubjectRequest) -> list[str]:
    """Work that must be done before a request may be completed, in plain words."""
    blockers = []
    if request_blocks_missing(request):
        blockers.append(_("Apply the restriction or objection first (or reject the request)."))
    if request.rectifications.filter(decision=RectificationProposal.Decision.PENDING).exists():
        blockers.append(_("Decide every proposed correction first."))
    blockers += export_completion_blockers(request)
    if request.kind in (RequestKind.ERASURE, RequestKind.SERVICE_DATA_DELETION) and not (
        ErasureSchedule.objects.filter(request=request, state=ErasureSchedule.State.DONE).exists()
    ):
        blockers.append(_("The erasure has not run yet."))
    if request.recipient_notifications.exclude(
        state__in=[RecipientNotification.State.SENT, RecipientNotification.State.DONE]
    ).exists():
        blockers.append(_("Some recipients have not been told yet (GDPR Art. 19)."))
    waiting = webhook_wait_words(request)
    if waiting:
        blockers.append(waiting)
    for handler in request_part_handlers():
        blockers += handler.completion_blockers(request)
    return blockers


@transaction.atomic
def dsar_request_apply(*, request: DataSubjectRequest, actor) -> DataSubjectRequest:
    """Carry out what an in-progress request asks, where an officer decides it (restriction,
    objection other than to direct marketing)."""
    request = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    if request.state != RequestState.IN_PROGRESS:
        raise RequestError(_("Start work on the request (in progress) before applying it."))
    subject = request_subject(request)
    if request.kind in BLOCK_KINDS:
        missing = request_blocks_missing(request)
        if not missing:
            return request  # applying twice changes nothing
        kind = (
            ProcessingBlock.Kind.RESTRICTION
            if request.kind == RequestKind.RESTRICTION
            else ProcessingBlock.Kind.OBJECTION
        )
        for code in missing:
            processing_block_add(
                kind=kind,
                subject=subject,
                purpose=_block_code(code),
                reason=f"Request {request.reference}",
                actor=actor,
                request=request,
            )
        if request.kind == RequestKind.RESTRICTION:
            recipient_notifications_create(request=request)
        return request
    if request.kind in EXPORT_KINDS:
        exports_create(request=request)
        return request
    if request.kind in (RequestKind.ERASURE, RequestKind.SERVICE_DATA_DELETION):
        erasure_schedule(request=request, actor=actor)
        return request
    raise RequestError(_("This kind of request is not applied from here."))


@transaction.atomic
def dsar_rectification_decide(
    *, proposal: RectificationProposal, approve: bool, actor, reason: str = ""
) -> RectificationProposal:
    """Apply or reject a proposed correction. An applied one goes through the owning app's
    services (the registry's `rectify`), and the recipients of the data are told."""
    text_refuse_unstorable(reason)
    proposal = RectificationProposal.objects.select_for_update().get(pk=proposal.pk)
    request = proposal.request
    if request.state != RequestState.IN_PROGRESS:
        raise RequestError(_("Start work on the request (in progress) before deciding."))
    if proposal.decision == RectificationProposal.Decision.SUPERSEDED:
        raise RequestError(_("The person gave a later value for this field: decide that one."))
    if proposal.decision != RectificationProposal.Decision.PENDING:
        raise RequestError(_("This correction has been decided already."))
    reason = reason.strip()
    if approve:
        label, _dot, field = proposal.target.rpartition(".")
        entry = registry.entry_by_label(label)
        if entry is None or entry.rectify is None or field not in entry.rectifiable_fields:
            raise RequestError(_("This field can no longer be corrected here."))
        try:
            entry.rectify(request_subject(request), field, proposal.proposed_value)
        except ValidationError as error:
            raise RequestError(
                _("The correction is not valid: %(why)s") % {"why": " ".join(error.messages)}
            ) from None
        proposal.decision = RectificationProposal.Decision.APPLIED
    else:
        if not reason:
            raise RequestError(_("Say why the correction is rejected: the person is told."))
        proposal.decision = RectificationProposal.Decision.REJECTED
    proposal.decision_reason = reason
    proposal.decided_by = actor
    proposal.decided_at = timezone.now()
    proposal.save()
    audit_record(
        action=f"rectification_{proposal.decision}",
        actor=actor,
        subject=request_subject(request),
        obj=proposal,
        reason=reason,
        detail={"target": proposal.target},
    )
    if approve:
        recipient_notifications_create(request=request, rectification=proposal)
    return proposal


@transaction.atomic
def dsar_request_withdraw(*, request: DataSubjectRequest, user) -> DataSubjectRequest:
    return dsar_request_transition(
        request=request, to_state=RequestState.WITHDRAWN, actor=user, reason=""
    )


def dsar_request_extend(
    *, request: DataSubjectRequest, amount: int, reason: str, actor
) -> DataSubjectRequest:
    """Extend once, by `amount` months or days as the person's jurisdiction counts them (GDPR:
    up to two months; CCPA/CPRA: up to 45 days), only before the first deadline, with a reason
    that is mailed to the person (GDPR Art. 12(3), 11 CCR § 7021(b))."""
    # A `with` block rather than the decorator, so that mutation testing (which leaves decorated
    # functions alone) reaches this rule (docs/mutation.md).
    with transaction.atomic():
        return _request_extend(request=request, amount=amount, reason=reason, actor=actor)


def _request_extend(*, request, amount: int, reason: str, actor) -> DataSubjectRequest:
    text_refuse_unstorable(reason)
    request = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    rule = request.deadline_rule
    reason = reason.strip()
    if not request.is_open:
        raise RequestError(_("Only an open request can be extended."))
    if request.extended_at is not None:
        raise RequestError(_("This request has been extended already; it can be extended once."))
    if request.original_due_at is None:
        raise RequestError(_("The deadline has not started yet, so it cannot be extended."))
    if timezone.now() >= request.original_due_at:
        raise RequestError(
            _("An extension must be decided, and the person told, before the first deadline.")
        )
    if not isinstance(amount, int) or not 1 <= amount <= rule.max_extension:
        raise RequestError(
            _("Under %(law)s an extension is between 1 and %(max)d %(unit)s.")
            % {"law": rule.law, "max": rule.max_extension, "unit": rule.unit_label}
        )
    if not reason:
        raise RequestError(_("Give the reason for the extension: the person is told it."))
    request.due_at = rule.extended(request.original_due_at, amount)
    request.extended_at = timezone.now()
    request.extension_reason = reason
    request.save(update_fields=["due_at", "extended_at", "extension_reason"])
    _event(request, RequestEvent.Kind.EXTENSION, actor=actor, text=reason)
    audit_record(
        action="request_extended",
        actor=actor,
        subject=request_subject(request),
        obj=request,
        reason=reason,
        detail={rule.unit: amount, "rule": rule.code},
    )
    request_mail_send(request=request, template="extended")
    return request


@transaction.atomic
def dsar_request_assign(*, request: DataSubjectRequest, assignee, actor) -> DataSubjectRequest:
    """Give the request to a staff member allowed to work requests (the permission, held
    directly or through a group), or to nobody. The assignee is mailed unless they assigned
    themselves."""
    if assignee is not None and not staff_can_work_requests(assignee):
        raise RequestError(
            _("%(name)s may not work on requests: give them that permission first.")
            % {"name": assignee.get_username()}
        )
    request = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    if assignee is not None and request.assignee_id == assignee.pk:
        return request  # assigning twice changes nothing
    previous = request.assignee_id
    request.assignee = assignee
    request.reminder_sent_at = None
    request.save(update_fields=["assignee", "reminder_sent_at"])
    _event(
        request,
        RequestEvent.Kind.ASSIGNMENT,
        actor=actor,
        internal=True,
        text=assignee.get_username() if assignee else "",
    )
    audit_record(
        action="request_assigned",
        actor=actor,
        subject=request_subject(request),
        obj=request,
        detail={"assignee": assignee.pk if assignee else None, "previous": previous},
    )
    if assignee is not None and assignee != actor and assignee.email:
        staff_mail_send(
            recipients=[assignee.email],
            template="assigned",
            context={
                "request": request,
                "assigned_by": actor.get_username() if actor else "",
                "admin_url": absolute_url(
                    reverse("admin:dsar_datasubjectrequest_change", args=[request.pk])
                ),
            },
        )
    return request


def dsar_request_note(*, request: DataSubjectRequest, text: str, actor) -> RequestEvent:
    text_refuse_unstorable(text)
    text = text.strip()
    if not text:
        raise RequestError(_("The note is empty."))
    return _event(request, RequestEvent.Kind.NOTE, actor=actor, text=text, internal=True)


def dsar_requests_lapse_unconfirmed(*, now=None, batch_size: int = 500) -> int:
    """Email-only requests never confirmed lapse after CONFIRMATION_DAYS and keep no data."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=app_settings.CONFIRMATION_DAYS)
    lapsed = 0
    while True:
        with transaction.atomic():
            batch = claim_due(
                DataSubjectRequest.objects.filter(
                    state=RequestState.AWAITING_CONFIRMATION, filed_at__lt=cutoff
                ).order_by("pk"),
                batch_size=batch_size,
            )
            if not batch:
                return lapsed
            for request in batch:
                _transition(request, RequestState.LAPSED, actor=None)
            ids = [r.pk for r in batch]
            DataSubjectRequest.objects.filter(pk__in=ids).update(
                state=RequestState.LAPSED,
                closed_at=now,
                email="",
                details="",
                purposes=[],
                country="",
            )
            RequestEvent.objects.filter(request_id__in=ids).update(text="")
            # A proposed correction is the person's data too (a date of birth, a name).
            RectificationProposal.objects.filter(request_id__in=ids).delete()
            lapsed += len(batch)


def _officer_emails() -> list[str]:
    from django.contrib.auth import get_user_model

    return list(
        get_user_model()
        .objects.filter(groups__name="Privacy officer", is_active=True, is_staff=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )


def dsar_reminders_send(*, now=None, batch_size: int = 500) -> int:
    """Remind each assignee once, REMINDER_DAYS before the due date."""
    now = now or timezone.now()
    horizon = now + timedelta(days=app_settings.REMINDER_DAYS)
    due = DataSubjectRequest.objects.select_related("assignee").filter(
        state__in=OPEN_STATES,
        assignee__isnull=False,
        reminder_sent_at__isnull=True,
        due_at__lte=horizon,
    )
    reminded = 0
    while due_soon := _reminders_send_batch(due.order_by("pk"), batch_size=batch_size, now=now):
        reminded += due_soon
    return reminded


def _reminders_send_batch(due, *, batch_size: int, now) -> int:
    with transaction.atomic():
        due_soon = claim_due(due, batch_size=batch_size)
        for request in due_soon:
            staff_mail_send(
                recipients=[request.assignee.email],
                template="reminder",
                context={
                    "request": request,
                    "admin_url": absolute_url(
                        reverse("admin:dsar_datasubjectrequest_change", args=[request.pk])
                    ),
                },
            )
        DataSubjectRequest.objects.filter(pk__in=[r.pk for r in due_soon]).update(
            reminder_sent_at=now
        )
    return len(due_soon)


def dsar_unassigned_nag(*, limit: int = 50) -> int:
    """Tell the privacy officers which open requests have nobody assigned (soonest due first)."""
    unassigned = list(
        DataSubjectRequest.objects.filter(state__in=OPEN_STATES, assignee__isnull=True)
        .exclude(state=RequestState.AWAITING_CONFIRMATION)
        .order_by("due_at", "filed_at")[:limit]
    )
    if unassigned:
        with transaction.atomic():
            staff_mail_send(
                recipients=_officer_emails(),
                template="unassigned",
                context={
                    "requests": unassigned,
                    "count": len(unassigned),
                    "base_url": absolute_url(""),
                },
            )
    return len(unassigned)
