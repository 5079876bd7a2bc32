"""Portability straight to a third party (GDPR Art. 20(2)).

The person names a recipient for a portability package: an email address, or one of their
enabled integrations (`dsar.recipients.portability_destinations`). When the package is released
(or at once, if it is released already), an email recipient is mailed a signed, one-time link
that dies after one download or TRANSFER_LINK_DAYS (whichever comes first); we keep only a hash of
its token. An integration gets the package through its adapter, from a worker. The person sees
every transfer on their dashboard and may revoke one that is not used yet.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ..app_settings import app_settings
from ..claims import claim_one
from ..mail import absolute_url, transfer_mail_send
from ..models import DataSubjectRequest, ExportFile, ThirdPartyTransfer
from ..recipients import Recipient, adapter_for, portability_destinations
from ..wake import job_wake
from .base import RequestError, audit_record, request_subject
from .exports import EXPORT_KINDS

TOKEN_SALT = "dsar.transfer.download"
TRANSFERABLE_KINDS = frozenset(
    kind for kind, kinds in EXPORT_KINDS.items() if ExportFile.Kind.PORTABILITY in kinds
)
LIVE_STATES = (
    ThirdPartyTransfer.State.WAITING,
    ThirdPartyTransfer.State.SENDING,
    ThirdPartyTransfer.State.SENT,
)
MAX_TRANSFERS_PER_REQUEST = 5
MAX_DELIVERY_ATTEMPTS = 8
LOST_AFTER = timedelta(minutes=10)


class TransferRefused(RequestError):
    """A download link that does not work: `status` is 404 for a link we never made, 410 for one
    that is used, revoked or expired. The message names no one."""

    def __init__(self, message, *, status: int, transfer: ThirdPartyTransfer | None = None):
        super().__init__(message)
        self.status = status
        self.transfer = transfer


def _released_package(request: DataSubjectRequest) -> ExportFile | None:
    return (
        request.exports.filter(
            kind=ExportFile.Kind.PORTABILITY,
            state=ExportFile.State.RELEASED,
            expires_at__gt=timezone.now(),
        )
        .order_by("-released_at")
        .first()
    )


def _destination(request: DataSubjectRequest, key: str) -> Recipient | None:
    subject = request_subject(request)
    if subject is None or not key:
        return None
    return next((d for d in portability_destinations(subject) if d.key == key), None)


def transfer_naming_refusal(*, request: DataSubjectRequest) -> str:
    """Why the person cannot name a recipient for this request now, in plain words ("" if they
    can). The one check behind the form on the request page and `transfer_create`."""
    if request.kind not in TRANSFERABLE_KINDS:
        return _("Only the package of a portability request can be sent to a third party.")
    if not request.is_open and _released_package(request) is None:
        return _(
            "This request's package is no longer available. Make a new portability request to "
            "send your data."
        )
    if request.transfers.filter(state__in=LIVE_STATES).exists():
        return _("A transfer of this package is under way. Revoke it first to name someone else.")
    if request.transfers.count() >= MAX_TRANSFERS_PER_REQUEST:
        return _("This package has been sent to %(count)s recipients, the most we allow.") % {
            "count": MAX_TRANSFERS_PER_REQUEST
        }
    return ""


@transaction.atomic
def transfer_create(
    *, request: DataSubjectRequest, actor, recipient_email: str = "", recipient_key: str = ""
) -> ThirdPartyTransfer:
    """The person names the recipient of their portability package. Sent when the package is
    released, or at once if it is released already. Bad input raises RequestError and changes
    nothing."""
    request = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    recipient_email, recipient_key = recipient_email.strip(), recipient_key.strip()
    if bool(recipient_email) == bool(recipient_key):
        raise RequestError(_("Name one recipient: an email address or one of your integrations."))
    recipient_name = ""
    if recipient_email:
        try:
            validate_email(recipient_email)
        except ValidationError:
            raise RequestError(_("Enter a valid email address for the recipient.")) from None
    else:
        destination = _destination(request, recipient_key)
        if destination is None:
            raise RequestError(_("Choose one of the integrations you have enabled."))
        recipient_name = destination.name
    refusal = transfer_naming_refusal(request=request)
    if refusal:
        raise RequestError(refusal)
    transfer = ThirdPartyTransfer(
        request=request,
        recipient_email=recipient_email,
        recipient_key=recipient_key,
        recipient_name=recipient_name,
    )
    transfer.full_clean()
    transfer.save()
    audit_record(
        action="transfer_named",
        actor=actor,
        actor_kind="subject",
        subject=request_subject(request),
        obj=transfer,
        detail={"recipient": recipient_key or "email"},
    )
    export = _released_package(request)
    if export is not None:
        _send(transfer, export, actor=actor)
    return transfer


def transfers_send_released(*, export: ExportFile, actor) -> int:
    """The package is released: send it to the recipients waiting for it."""
    if export.kind != ExportFile.Kind.PORTABILITY:
        return 0
    waiting = list(
        ThirdPartyTransfer.objects.select_for_update().filter(
            request_id=export.request_id, state=ThirdPartyTransfer.State.WAITING
        )
    )
    for transfer in waiting:
        _send(transfer, export, actor=actor)
    return len(waiting)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _send(transfer: ThirdPartyTransfer, export: ExportFile, *, actor) -> None:
    now = timezone.now()
    transfer.export = export
    if transfer.recipient_email:
        token = signing.dumps([str(transfer.public_id), secrets.token_urlsafe(24)], salt=TOKEN_SALT)
        transfer.token_hash = _token_hash(token)
        transfer.state = ThirdPartyTransfer.State.SENT
        transfer.sent_at = now
        # The link cannot outlive the package, which is deleted EXPORT_KEEP_DAYS after it was built.
        transfer.expires_at = min(
            now + timedelta(days=app_settings.TRANSFER_LINK_DAYS), export.expires_at
        )
        transfer.save(update_fields=["export", "token_hash", "state", "sent_at", "expires_at"])
        transfer_mail_send(
            transfer=transfer,
            download_url=absolute_url(reverse("dsar:transfer_download", args=[token])),
        )
        action = "transfer_link_sent"
    else:
        transfer.state = ThirdPartyTransfer.State.SENDING
        transfer.expires_at = export.expires_at
        transfer.save(update_fields=["export", "state", "expires_at"])
        _wake(transfer.pk)
        action = "transfer_queued"
    audit_record(
        action=action,
        actor=actor,
        subject=request_subject(transfer.request),
        obj=transfer,
        detail={"expires_at": transfer.expires_at.isoformat()},
    )


def _wake(transfer_id: int) -> None:
    job_wake(task="dsar.tasks.transfer_deliver_task", args=[transfer_id])


# --- The recipient's download link ---------------------------------------------------------------


def transfer_for_token(*, token: str) -> ThirdPartyTransfer:
    """The transfer a download link stands for, while it may still be downloaded; otherwise
    TransferRefused. Reads only: showing the page does not use the link up."""
    try:
        public_id, _nonce = signing.loads(
            token, salt=TOKEN_SALT, max_age=timedelta(days=app_settings.TRANSFER_LINK_DAYS)
        )
        transfer = (
            ThirdPartyTransfer.objects.select_related("export__request", "request")
            .filter(public_id=public_id)
            .first()
        )
    except signing.SignatureExpired:
        raise TransferRefused(_("This link has expired."), status=410) from None
    except (signing.BadSignature, ValueError, TypeError, ValidationError):
        transfer = None
    if transfer is None or not hmac.compare_digest(transfer.token_hash, _token_hash(token)):
        message = _("This link is not valid. Check that you copied all of it.")
        raise TransferRefused(message, status=404)
    if transfer.state == ThirdPartyTransfer.State.RECEIVED:
        message = _("This link has been used already: it works only once.")
        raise TransferRefused(message, status=410, transfer=transfer)
    if transfer.state != ThirdPartyTransfer.State.SENT:
        message = _("The person who sent this link has withdrawn it.")
        raise TransferRefused(message, status=410, transfer=transfer)
    export = transfer.export
    if (
        transfer.expires_at <= timezone.now()
        or export is None
        or export.state != ExportFile.State.RELEASED
        or not export.file
    ):
        raise TransferRefused(_("This link has expired."), status=410, transfer=transfer)
    return transfer


def transfer_download_claim(*, token: str) -> ThirdPartyTransfer:
    """Use the link up and return the transfer whose package to hand over. The claim is one
    conditional UPDATE, so of two downloads at the same moment exactly one wins."""
    try:
        transfer = transfer_for_token(token=token)
        if not transfer.export.file.storage.exists(transfer.export.file.name):
            raise TransferRefused(_("This link has expired."), status=410, transfer=transfer)
        now = timezone.now()
        won = ThirdPartyTransfer.objects.filter(
            pk=transfer.pk, state=ThirdPartyTransfer.State.SENT, expires_at__gt=now
        ).update(state=ThirdPartyTransfer.State.RECEIVED, received_at=now)
        if not won:
            message = _("This link has been used already: it works only once.")
            raise TransferRefused(message, status=410, transfer=transfer)
    except TransferRefused as refusal:
        if refusal.transfer is not None:
            audit_record(
                action="transfer_download_refused",
                actor_kind="system",
                subject=request_subject(refusal.transfer.request),
                obj=refusal.transfer,
                detail={"status": refusal.status},
            )
        raise
    audit_record(
        action="transfer_downloaded",
        actor_kind="system",
        subject=request_subject(transfer.request),
        obj=transfer,
        detail={"by": "recipient"},
    )
    return transfer


@transaction.atomic
def transfer_revoke(*, request: DataSubjectRequest, transfer_id, user) -> ThirdPartyTransfer:
    """The person withdraws a transfer that has not been used: its link stops working at once."""
    transfer = request.transfers.filter(public_id=transfer_id).first()
    if transfer is None:
        raise RequestError(_("There is no such transfer on this request."))
    now = timezone.now()
    revoked = (
        ThirdPartyTransfer.objects.filter(pk=transfer.pk, state__in=LIVE_STATES)
        .exclude(state=ThirdPartyTransfer.State.SENT, expires_at__lte=now)
        .update(state=ThirdPartyTransfer.State.REVOKED, revoked_at=now)
    )
    if not revoked:
        raise RequestError(
            _("This transfer can no longer be revoked: it was used, has expired or was revoked.")
        )
    transfer.refresh_from_db()
    audit_record(
        action="transfer_revoked",
        actor=user,
        actor_kind="subject",
        subject=request_subject(request),
        obj=transfer,
    )
    return transfer


# --- Delivery to an integration (a worker) ------------------------------------------------------


def transfer_deliver(*, transfer_id: int) -> bool:
    """Hand the package to the integration through its adapter. The row is claimed under a lock
    and only a transfer still being delivered is worked, so repeats change nothing."""
    with transaction.atomic():
        transfer = claim_one(
            ThirdPartyTransfer.objects.select_related("export", "request").filter(
                pk=transfer_id, state=ThirdPartyTransfer.State.SENDING
            )
        )
        if transfer is None:
            return False
        now = timezone.now()
        subject = request_subject(transfer.request)
        destination = _destination(transfer.request, transfer.recipient_key)
        export = transfer.export
        transfer.attempts += 1
        fields = ["attempts", "last_error", "state"]
        try:
            if destination is None:
                raise LookupError("The integration is no longer enabled.")
            if export is None or export.state != ExportFile.State.RELEASED or not export.file:
                raise LookupError("The package has been deleted.")
            with export.file.open("rb") as content:
                receipt = adapter_for(destination.package_adapter, destination).deliver_package(
                    subject=subject,
                    reference=transfer.request.reference,
                    filename=f"workpex-{transfer.request.reference}-package.zip",
                    content=content,
                )
        except Exception as error:  # an adapter may fail in any way: recorded, retried
            transfer.last_error = f"{type(error).__name__}: {error}"[:1000]
            final = isinstance(error, LookupError) or transfer.attempts >= MAX_DELIVERY_ATTEMPTS
            if final:
                transfer.state = ThirdPartyTransfer.State.FAILED
                audit_record(
                    action="transfer_delivery_failed",
                    subject=subject,
                    obj=transfer,
                    detail={"recipient": transfer.recipient_key, "attempts": transfer.attempts},
                )
            transfer.save(update_fields=fields)
            return False
        transfer.state = ThirdPartyTransfer.State.RECEIVED
        transfer.sent_at = transfer.received_at = now
        transfer.receipt = str(receipt)[:200]
        transfer.last_error = ""
        transfer.save(update_fields=[*fields, "sent_at", "received_at", "receipt"])
        audit_record(
            action="transfer_delivered",
            subject=subject,
            obj=transfer,
            detail={"recipient": transfer.recipient_key},
        )
        return True


def transfers_sweep(*, now=None, limit: int = 500) -> int:
    """Wake deliveries whose message was lost or whose last try failed (the exports sweep)."""
    now = now or timezone.now()
    ids = list(
        ThirdPartyTransfer.objects.filter(
            state=ThirdPartyTransfer.State.SENDING,
            created_at__lt=now - LOST_AFTER,
            attempts__lt=MAX_DELIVERY_ATTEMPTS,
        ).values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        job_wake(task="dsar.tasks.transfer_deliver_task", args=[pk], after_commit=False)
    return len(ids)
