"""The mails of a request's life. They are about the person's own request, so they are essential
mail: unsubscribing does not stop them. Each is sent after the transaction commits, in the
person's language, and is written to the request's timeline."""

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from .models import DataSubjectRequest, RequestEvent


def absolute_url(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def request_url(request: DataSubjectRequest) -> str:
    """The page of the request. Someone without an account gets a signed link instead of a login."""
    path = reverse("dsar:request_detail", args=[request.public_id])
    if request.user_id is None:
        path += "?t=" + view_token(request)
    return absolute_url(path)


def view_token(request: DataSubjectRequest) -> str:
    from .selectors import VIEW_SALT

    return signing.dumps(str(request.public_id), salt=VIEW_SALT)


def _language_of(request: DataSubjectRequest) -> str:
    return getattr(request.user, "language", "") or settings.LANGUAGE_CODE


def request_mail_send(
    *, request: DataSubjectRequest, template: str, context: dict | None = None
) -> None:
    """Send dsar/mail/<template>_{subject,body}.txt to the person who filed `request`."""
    recipient = request.email or getattr(request.user, "email", "")
    if not recipient:
        return
    context = {"request": request, "request_url": request_url(request), **(context or {})}
    with translation.override(_language_of(request)):
        subject = render_to_string(f"dsar/mail/{template}_subject.txt", context).strip()
        body = render_to_string(f"dsar/mail/{template}_body.txt", context)
    RequestEvent.objects.create(request=request, kind=RequestEvent.Kind.MAIL, text=template)
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])
    )


def staff_mail_send(*, recipients: list[str], template: str, context: dict) -> None:
    if not recipients:
        return
    subject = render_to_string(f"dsar/mail/{template}_subject.txt", context).strip()
    body = render_to_string(f"dsar/mail/{template}_body.txt", context)
    transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients))
