"""The mails of a request's life. They are about the person's own request, so they are essential
mail: unsubscribing does not stop them. dsar builds no message itself: it hands each one to the
transport the consent app registers (`consent.mail.mail_send`, the portal's one mail gate), so
every mail leaves through the same path, after the transaction commits."""

from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from .models import DataSubjectRequest, RequestEvent
from .registry import Subject

# The essential purpose dsar's mails are sent under (a code of the consent app's purposes).
MAIL_PURPOSE = "requests"

_transport: Callable[..., bool] | None = None


def mail_transport(func: Callable[..., bool]) -> Callable[..., bool]:
    """Register the function that sends mail: (subject, purpose, template, context, to) -> bool."""
    global _transport
    _transport = func
    return func


def _deliver(*, to: str, subject: Subject, template: str, context: dict) -> bool:
    if _transport is None:
        raise ImproperlyConfigured("dsar has no mail transport: install the consent app.")
    return _transport(
        subject=subject, purpose=MAIL_PURPOSE, template=template, context=context, to=to
    )


def absolute_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def site_url_rebase(url: str) -> str:
    """A link a library built from the request's Host header, moved onto SITE_URL: a forged
    `Host: localhost:6666` must not decide where a mailed link points."""
    parts = urlsplit(url)
    return absolute_url(urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment)))


def view_token(request: DataSubjectRequest) -> str:
    from .selectors import VIEW_SALT

    return signing.dumps(str(request.public_id), salt=VIEW_SALT)


def request_url(request: DataSubjectRequest) -> str:
    """The page of the request. Someone without an account gets a signed link instead of a login."""
    path = reverse("dsar:request_detail", args=[request.public_id])
    if request.user_id is None:
        path += "?t=" + view_token(request)
    return absolute_url(path)


def request_mail_send(
    *, request: DataSubjectRequest, template: str, context: dict | None = None
) -> None:
    """Send dsar/mail/<template> to the person who filed `request`; noted on its timeline."""
    recipient = request.email or getattr(request.user, "email", "")
    if not recipient:
        return
    context = {"request": request, "request_url": request_url(request), **(context or {})}
    RequestEvent.objects.create(request=request, kind=RequestEvent.Kind.MAIL, text=template)
    _deliver(
        to=recipient,
        subject=_requester(request, recipient),
        template=f"dsar/mail/{template}",
        context=context,
    )


def _requester(request: DataSubjectRequest, email: str) -> Subject:
    return Subject(user_id=request.user_id) if request.user_id else Subject(email=email)


def transfer_mail_send(*, transfer, download_url: str) -> None:
    """The one-time download link, to the recipient the person named (GDPR Art. 20(2)). Sent on
    the person's behalf, so in their language; it names neither them nor their data."""
    request = transfer.request
    RequestEvent.objects.create(request=request, kind=RequestEvent.Kind.MAIL, text="transfer_link")
    _deliver(
        to=transfer.recipient_email,
        subject=_requester(request, request.email or getattr(request.user, "email", "")),
        template="dsar/mail/transfer_link",
        context={
            "reference": request.reference,
            "download_url": download_url,
            "expires_at": transfer.expires_at,
        },
    )


def staff_mail_send(*, recipients: list[str], template: str, context: dict) -> None:
    for address in recipients:
        _deliver(
            to=address,
            subject=Subject(email=address),
            template=f"dsar/mail/{template}",
            context=context,
        )


def recipient_mail_send(*, to: str, context: dict) -> None:
    """An Art. 19 notice to a recipient's privacy desk."""
    _deliver(to=to, subject=Subject(email=to), template="dsar/mail/recipient", context=context)
