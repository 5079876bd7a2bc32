"""The one way the portal sends mail (allauth's own account mails aside, which are essential).

Every message names its subject and its purpose. Essential purposes (account and security,
payment, policy-change notices, replies to requests) always go out. Anything else goes only
through the gate (`consent.selectors.can_contact` / `contactable`), and always carries a signed
one-click unsubscribe link and the RFC 8058 headers:

    List-Unsubscribe: <https://…/unsubscribe/<token>/>
    List-Unsubscribe-Post: List-Unsubscribe=One-Click

Workers that must know what happened to each message (the policy-notice fan-out) use
`mail_send_batch_now`: it sends at once, over one connection, and returns a result per message
(sent, refused by the gate, transient or permanent failure), for the caller to record.

Templates: `<template>_subject.txt`, `<template>_body.txt` and, if present, `<template>_body.html`.
Their context gets `purpose`, `unsubscribe_url` (non-essential mail) and `preferences_url`.
Mail leaves after the surrounding transaction commits.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import time
from dataclasses import dataclass, field
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import QuerySet
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone, translation

from dsar.mail import absolute_url  # the one place links in mail are made absolute
from dsar.registry import Subject

from . import selectors, tokens
from .app_settings import app_settings
from .models import FormSubmission, Partner, Purpose

logger = logging.getLogger(__name__)

ONE_CLICK = "List-Unsubscribe=One-Click"


def unsubscribe_url(
    *, subject: Subject, purpose: str, partner_id: int | None = None, campaign: str = ""
) -> str:
    token = tokens.unsubscribe_token_make(
        subject=subject, purpose=purpose, partner_id=partner_id, campaign=campaign
    )
    return absolute_url(reverse("consent:unsubscribe", args=[token]))


@dataclass(frozen=True)
class MailTemplates:
    """The templates of one kind of mail, looked up once for a whole batch of it."""

    subject: Any
    body: Any
    html: Any = None  # optional

    @classmethod
    def get(cls, template: str) -> MailTemplates:
        try:
            html = get_template(f"{template}_body.html")
        except TemplateDoesNotExist:
            html = None
        return cls(
            subject=get_template(f"{template}_subject.txt"),
            body=get_template(f"{template}_body.txt"),
            html=html,
        )

    def render(self, context: dict, *, language: str = "") -> tuple[str, str, str | None]:
        """(subject line, text body, HTML body or None) in `language`, through the template
        engine: filters and tags work on every value."""
        with translation.override(language or settings.LANGUAGE_CODE):
            subject, body = self.subject.render(context), self.body.render(context)
            html = self.html.render(context) if self.html else None
        return " ".join(subject.split()), body, html


def _message(
    *,
    to: str,
    subject: Subject,
    purpose: Purpose,
    template: str,
    context: dict,
    partner_id: int | None,
    language: str = "",
    campaign: str = "",
    templates: MailTemplates | None = None,
) -> EmailMultiAlternatives:
    headers = {}
    context = {**context, **_mail_context(purpose)}
    if not purpose.is_essential:
        # The token names the account holder when there is one, so the link keeps working
        # whatever address the mail went to.
        link = unsubscribe_url(
            subject=subject, purpose=purpose.code, partner_id=partner_id, campaign=campaign
        )
        context["unsubscribe_url"] = link
        headers.update(_unsubscribe_headers(link))
    templates = templates or MailTemplates.get(template)
    title, body, html = templates.render(context, language=language)
    return _email(title=title, body=body, html=html, to=to, headers=headers)


def _mail_context(purpose: Purpose) -> dict:
    """What every mail's templates get."""
    return {
        "purpose": purpose,
        "preferences_url": absolute_url(reverse("consent:preferences")),
        "site_url": app_settings.SITE_URL,
    }


def _unsubscribe_headers(link: str) -> dict:
    return {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": ONE_CLICK}


def _email(*, title: str, body: str, html: str | None, to: str, headers: dict):
    message = EmailMultiAlternatives(
        subject=title, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to], headers=headers
    )
    if html:
        message.attach_alternative(html, "text/html")
    return message


def _send_after_commit(messages: list[EmailMultiAlternatives]) -> None:
    def send():
        if messages:
            with get_connection() as connection:
                connection.send_messages(messages)

    transaction.on_commit(send)


def mail_send(
    *,
    subject: Subject,
    purpose: Purpose | str,
    template: str,
    context: dict | None = None,
    partner: Partner | int | None = None,
    to: str = "",
) -> bool:
    """Send one message to one subject for one purpose. Returns False (and sends nothing) when
    the gate says no. `to` overrides the address (for example a form's address); by default the
    account's address, else the subject's email."""
    purpose = selectors.purpose_get(purpose)
    partner_id = selectors.partner_id_of(partner)
    if not selectors.can_contact(subject, purpose, partner=partner_id):
        logger.info("mail not sent: %s may not be contacted for %s", subject.ref, purpose.code)
        return False
    resolved = selectors.subject_resolve(subject=subject)
    language = ""
    if resolved.user_id is not None:
        user = get_user_model().objects.filter(pk=resolved.user_id).first()
        language = user.language if user else ""
    address = to or resolved.email
    if not address:
        return False
    if not purpose.is_essential and to and to.lower() != resolved.email:
        return False  # consent was given for the subject's own address, not another one
    message = _message(
        to=address,
        subject=resolved if resolved.user_id is None else Subject(user_id=resolved.user_id),
        purpose=purpose,
        template=template,
        context=context or {},
        partner_id=partner_id,
        language=language,
    )
    _send_after_commit([message])
    return True


def mail_send_bulk(
    *,
    recipients: QuerySet,
    purpose: Purpose | str,
    template: str,
    context: dict | None = None,
    partner: Partner | int | None = None,
    user_field: str | None = None,
    email_field: str | None = None,
    email_only: bool = False,
    batch_size: int = 500,
    campaign: str = "",
) -> int:
    """Send one message to every recipient of a queryset that the bulk gate lets through, once
    per person. `email_only` keeps only people without an account. `campaign` names the mailing
    in its unsubscribe links, so the officers see unsubscribes per campaign. Returns how many
    were sent."""
    purpose = selectors.purpose_get(purpose)
    partner_id = selectors.partner_id_of(partner)
    allowed = selectors.contactable(
        recipients,
        purpose=purpose,
        partner=partner_id,
        user_field=user_field,
        email_field=email_field,
    )
    if email_only:
        allowed = allowed.filter(consent_uid__isnull=True)
    rows = allowed.values_list("consent_uid", "consent_email", "consent_language")
    templates = MailTemplates.get(template)
    seen: set = set()
    batch: list[EmailMultiAlternatives] = []
    sent = 0
    for uid, email, language in rows.iterator():
        key = uid if uid is not None else email
        if key in seen or not email:
            continue
        seen.add(key)
        subject = Subject(user_id=uid) if uid is not None else Subject(email=email)
        batch.append(
            _message(
                to=email,
                subject=subject,
                purpose=purpose,
                template=template,
                context=context or {},
                partner_id=partner_id,
                language=language or "",
                campaign=campaign,
                templates=templates,
            )
        )
        if len(batch) >= batch_size:
            _send_after_commit(batch)
            sent += len(batch)
            batch = []
    _send_after_commit(batch)
    return sent + len(batch)


def mail_campaign_send(
    *,
    purpose: Purpose | str,
    template: str,
    context: dict | None = None,
    partner=None,
    campaign: str = "",
) -> int:
    """Send a campaign for a purpose to everyone who may receive it: account holders, and people
    without an account who agreed by email, once each. `campaign` (default: the template and
    today's date) tags its unsubscribe links."""
    from .models import ConsentEvent

    purpose = selectors.purpose_get(purpose)
    campaign = campaign or f"{template.rsplit('/', 1)[-1]}-{timezone.localdate():%Y-%m-%d}"
    sent = mail_send_bulk(
        recipients=get_user_model().objects.filter(is_active=True),
        purpose=purpose,
        template=template,
        context=context,
        partner=partner,
        campaign=campaign,
    )
    # People without an account are known by the grants they gave by email. Whoever has an
    # account by now got the mail above, as that account.
    grants_by_email = ConsentEvent.objects.filter(
        user__isnull=True, purpose=purpose, action=ConsentEvent.Action.GRANTED
    )
    sent += mail_send_bulk(
        recipients=grants_by_email,
        purpose=purpose,
        template=template,
        context=context,
        partner=partner,
        email_field="email",
        email_only=True,
        campaign=campaign,
    )
    return sent


# --- Sending now, with a result per message -----------------------------------------------------


@dataclass(frozen=True)
class OutgoingMail:
    """One message for `mail_send_batch_now`. `key` is the caller's (e.g. a row id); `values`
    are what the batch's templates print for this recipient alone; `message_id`, when given, is
    the message's Message-ID: the same for every attempt at the same message, so a resend after
    a crash is recognisably the same mail."""

    key: Any
    subject: Subject
    to: str
    values: dict = field(default_factory=dict)  # per recipient, e.g. {"name": …}
    language: str = ""
    message_id: str = ""


SENT = "sent"
REFUSED = "refused"  # the gate said no: nothing was sent, and nothing should be retried
TRANSIENT = "transient"  # try again later (4xx, connection trouble)
PERMANENT = "permanent"  # will not work however often we try (5xx, a bad address or template)


@dataclass(frozen=True)
class MailResult:
    """What happened to one message. `answered`: the mail server said something about this
    message (accepted or refused it), so it counts as an attempt on it. A connection refused,
    broken or closed before the server spoke about the message is not an attempt: the message
    was never handed over."""

    key: Any
    outcome: str
    error: str = ""
    answered: bool = False


# Replies about the connection, not about one message: the greeting, HELO/EHLO, AUTH, and
# 421 ("service not available, closing the channel"), which a server may send at any step.
_CONNECTION_REPLIES = (
    smtplib.SMTPConnectError,
    smtplib.SMTPHeloError,
    smtplib.SMTPAuthenticationError,
)


def _failure(error: Exception) -> tuple[str, bool, bool]:
    """(outcome, connection broken, answered about this message) for an exception raised while
    handing over one message: the one rule of what counts as an attempt."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        if codes and all(code == 421 for code in codes):
            return TRANSIENT, True, False
        permanent = bool(codes) and all(500 <= code < 600 for code in codes)
        return (PERMANENT if permanent else TRANSIENT), False, True
    if isinstance(error, _CONNECTION_REPLIES) or (
        isinstance(error, smtplib.SMTPResponseException) and error.smtp_code == 421
    ):
        return TRANSIENT, True, False
    if isinstance(error, smtplib.SMTPResponseException):
        # SMTPSenderRefused, SMTPDataError: the server's reply about this message decides.
        return (PERMANENT if 500 <= error.smtp_code < 600 else TRANSIENT), False, True
    if isinstance(error, OSError):  # SMTPServerDisconnected, refused connections, time-outs
        return TRANSIENT, True, False
    return PERMANENT, False, True  # e.g. a template error: it fails the same way every time


def _allowed(purpose: Purpose, items: list[OutgoingMail]) -> set:
    """The keys of the items the gate lets through, each to the subject's own address only for
    non-essential mail: one query for all account holders, one per email-only subject."""
    if purpose.is_essential:
        return {item.key for item in items}
    allowed = set()
    user_ids = {item.subject.user_id for item in items if item.subject.user_id is not None}
    addresses = dict(
        selectors.contactable(
            get_user_model().objects.filter(pk__in=user_ids), purpose=purpose
        ).values_list("consent_uid", "consent_email")
    )
    for item in items:
        uid = item.subject.user_id
        if uid is not None:
            if addresses.get(uid) == item.to.lower():
                allowed.add(item.key)
        elif item.to.lower() == item.subject.email.lower() and selectors.can_contact(
            item.subject, purpose
        ):
            allowed.add(item.key)
    return allowed


def _outside_transactions() -> None:
    """Refuse to run inside the caller's transaction: a rollback could not take the mail back.
    A durable atomic block is Django's public test for "no transaction around this one" (the
    blocks Django's TestCase opens around each test do not count)."""
    if transaction.get_autocommit():
        return  # no transaction is open
    try:
        with transaction.atomic(durable=True):
            pass
    except RuntimeError:
        raise RuntimeError(
            "mail_send_batch_now sends at once: call it outside a transaction."
        ) from None


def mail_send_batch_now(
    *,
    purpose: Purpose | str,
    template: str,
    context: dict,
    items: list[OutgoingMail],
    deadline: float | None = None,
) -> list[MailResult]:
    """Send each item now, over one connection, one message at a time, and say what happened to
    each. For workers that record the outcome of every message (the caller marks its rows):
    it must not run inside a transaction, since a rollback could not take the mail back.

    One kind of mail: `template` with `context` for every item, and each item's own `values`,
    rendered for each item in its language (the templates are looked up once), each message a
    Django `EmailMultiAlternatives` handed to one backend connection opened for the batch.

    Only the gate's allowed recipients get mail (`refused` for the others). After a connection
    failure, or once `deadline` (a `time.monotonic()` value) has passed, the rest of the batch
    is not tried and comes back as `transient`. Each result says whether the mail server
    answered about its message (`MailResult.answered`, decided by `_failure`): only such a
    result is an attempt on the message.
    """
    _outside_transactions()
    purpose = selectors.purpose_get(purpose)
    allowed = _allowed(purpose, items)
    templates = MailTemplates.get(template)
    context = {**context, **_mail_context(purpose)}
    results: list[MailResult] = []
    backend = None
    broken = False
    try:
        for item in items:
            if item.key not in allowed:
                results.append(MailResult(item.key, REFUSED, "the contact gate said no"))
                continue
            if broken:
                results.append(MailResult(item.key, TRANSIENT, "not tried: connection lost"))
                continue
            if deadline is not None and time.monotonic() > deadline:
                results.append(MailResult(item.key, TRANSIENT, "not tried: out of time"))
                continue
            try:
                values, headers = dict(item.values), {}
                if not purpose.is_essential:
                    link = unsubscribe_url(subject=item.subject, purpose=purpose.code)
                    values["unsubscribe_url"] = link
                    headers.update(_unsubscribe_headers(link))
                if item.message_id:
                    headers["Message-ID"] = item.message_id
                title, body, html = templates.render({**context, **values}, language=item.language)
                message = _email(title=title, body=body, html=html, to=item.to, headers=headers)
                if backend is None:
                    backend = get_connection(fail_silently=False)
                    backend.open()
                backend.send_messages([message])
            except SoftTimeLimitExceeded:
                raise  # the task's time is up: not a failure of this message (the caller's claim)
            except Exception as error:  # recorded per message; the caller retries or gives up
                outcome, broken, answered = _failure(error)
                results.append(
                    MailResult(item.key, outcome, f"{type(error).__name__}: {error}", answered)
                )
                if broken and backend is not None:
                    with contextlib.suppress(Exception):  # the connection is gone either way
                        backend.close()
                    backend = None
            else:
                results.append(MailResult(item.key, SENT, answered=True))
    finally:
        if backend is not None:
            backend.close()
    return results


# --- The portal's own consent mails -----------------------------------------------------------


def confirmation_mail_send(*, submission: FormSubmission) -> bool:
    """Double opt-in: ask the person to confirm their address before any marketing mail."""
    token = tokens.confirmation_token_make(submission_id=submission.pk)
    return mail_send(
        subject=Subject(email=submission.email),
        purpose="requests",
        template="consent/mail/confirm_subscription",
        context={
            "name": submission.name,
            "confirm_url": absolute_url(reverse("consent:form_confirm", args=[token])),
            "purpose_asked": submission.marketing_purpose,
        },
        to=submission.email,
    )


def newsletter_welcome_send(*, submission: FormSubmission) -> bool:
    subject = (
        Subject(user_id=submission.user_id)
        if submission.user_id is not None
        else Subject(email=submission.email)
    )
    return mail_send(
        subject=subject,
        purpose="newsletter",
        template="consent/mail/newsletter_welcome",
        context={"name": submission.name},
    )


def preferences_link_send(*, email: str) -> bool:
    """Mail a link to the preference centre. Account holders are told to sign in instead."""
    email = email.strip().lower()
    account = get_user_model().objects.filter(email__iexact=email).exists()
    token = tokens.preferences_token_make(email=email)
    return mail_send(
        subject=Subject(email=email),
        purpose="requests",
        template="consent/mail/preferences_link",
        context={
            "has_account": account,
            "login_url": absolute_url(reverse("account_login")),
            "link": absolute_url(reverse("consent:preferences_link", args=[token])),
            "hours": int(app_settings.PREFERENCES_LINK_MAX_AGE.total_seconds() // 3600),
        },
        to=email,
    )
