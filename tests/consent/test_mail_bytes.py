"""Batch mail (policy notices, campaigns sent by `mail_send_batch_now`) is Django's
`EmailMultiAlternatives` over one SMTP connection, each message rendered for its recipient. These
tests pin, over a real SMTP sink, that the mails are exactly what the generic path makes."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from email.utils import parseaddr

import pytest
from django.conf import settings
from django.template import engines
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from consent import mail as consent_mail
from consent import policies, services, tokens
from consent.models import PolicyNotice
from dsar.registry import Subject
from tests.accounts.factories import UserFactory


def _normalised(data: bytes) -> bytes:
    """Without what differs on every call: the date, a generated Message-ID, the boundary."""
    data = re.sub(rb"\r\nDate: [^\r]+\r\n", b"\r\nDate: DATE\r\n", data)
    data = re.sub(rb"Message-ID: <\d+\.\d+\.\d+@[^>]+>", b"Message-ID: <GENERATED>", data)
    return re.sub(rb"={15}\d{19}==(\.\d+)?", b"BOUNDARY", data)


def test_batch_mail_templates_may_filter_per_recipient_values():
    """Batch mail renders each message through the template engine: a filter on a person's own
    value works as in any Django template."""
    templates = consent_mail.MailTemplates(
        subject=engines["django"].from_string("{{ title }} {{ name|upper }}"),
        body=engines["django"].from_string("{{ name|linebreaksbr }} {{ name|urlencode }}"),
    )
    assert templates.render({"title": "Hi", "name": "Ada Lovelace"}) == (
        "Hi ADA LOVELACE",
        "Ada Lovelace Ada%20Lovelace",
        None,
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_batch_mail_refuses_to_send_inside_the_caller_s_transaction():
    from django.db import transaction

    with transaction.atomic(), pytest.raises(RuntimeError, match="outside a transaction"):
        consent_mail.mail_send_batch_now(
            purpose="policy_changes", template="consent/mail/announcement", context={}, items=[]
        )


# --- Policy notices end to end: SMTP to a sink, parsed and compared ------------------------------

PEOPLE = [
    # (full name, email, language)
    ("Ada Lovelace", "ada@example.com", ""),
    ("Jörg Müller-Lüdenscheidt", "joerg@example.de", "de"),
    ("O'Brien & <Söhne>", "obrien@example.com", "en"),
    ("山田 太郎", "taro@example.jp", "de"),
    ("Zoë", "zoë@exämple.de", ""),
    ("", "nameless@example.com", "en"),
]


def _generic_notice(policy, user, notice) -> bytes:
    """The notice as the generic path makes it: the templates rendered for this person in their
    language, Django's EmailMessage, and its bytes."""
    context = {
        **policies._notice_context(policy),
        "name": user.full_name,
        "purpose": consent_mail.selectors.purpose_get(policies.NOTICE_PURPOSE),
        "preferences_url": consent_mail.absolute_url(reverse("consent:preferences")),
        "site_url": consent_mail.app_settings.SITE_URL,
    }
    with translation.override(user.language or settings.LANGUAGE_CODE):
        title = render_to_string(f"{policies.NOTICE_TEMPLATE}_subject.txt", context)
        body = render_to_string(f"{policies.NOTICE_TEMPLATE}_body.txt", context)
    message = consent_mail.EmailMultiAlternatives(
        subject=" ".join(title.split()),
        body=body,
        to=[user.email],
        headers={"Message-ID": policies.notice_message_id(notice.pk)},
    )
    return message.message().as_bytes(linesep="\r\n")


@pytest.mark.django_db
def test_policy_notices_over_smtp_are_the_generic_mails(smtp_sink):
    users = {
        email: User.objects.create(
            username=email.split("@")[0], email=email, full_name=name, language=language
        )
        for name, email, language in PEOPLE
    }
    policy = services.policy_version_draft(
        version="2.0",
        text="# Policy\n\nNew text.",
        summary_of_changes="Wir speichern Tickets <zwei> Jahre & länger.",
        is_material=True,
        effective_at=timezone.now() + timedelta(days=62),
    )
    policy = services.policy_version_publish(policy=policy)
    policies.policy_notices_send(version_id=policy.pk, batch_size=4)

    received = {  # by Message-ID: the sink reads encoded addresses its own way
        message_from_bytes(content)["Message-ID"]: (sender, rcpt, content)
        for sender, rcpt, content in smtp_sink.received
    }
    everyone = User.objects.filter(is_active=True)
    assert PolicyNotice.objects.filter(version=policy, state="sent").count() == everyone.count()
    assert len(smtp_sink.received) == everyone.count()
    for email, user in users.items():
        notice = PolicyNotice.objects.get(version=policy, user=user)
        sender, rcpt, content = received[policies.notice_message_id(notice.pk)]
        assert len(rcpt) == 1 and (rcpt == [email] or not email.isascii())
        assert sender == parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
        generic_bytes = _generic_notice(policy, user, notice)
        # The very bytes (smtplib ends the data with a line break), the date aside...
        assert _normalised(content).rstrip() == _normalised(generic_bytes).rstrip()
        # ...and what a mail client reads.
        ours, generic = message_from_bytes(content), message_from_bytes(generic_bytes)
        assert _without_date(ours) == _without_date(generic)
        assert ours.get_payload(decode=True) == generic.get_payload(decode=True)
        assert ours["Message-ID"] == policies.notice_message_id(notice.pk)
        assert "List-Unsubscribe" not in ours
        text = ours.get_payload(decode=True).decode()
        german = user.language == "de"
        assert ("Datenschutzerklärung" in str(_subject(ours))) is german
        assert text.startswith(f"{'Hallo' if german else 'Hello'} {user.full_name},")
        assert _subject(ours) == _subject(generic)


def _subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _without_date(message) -> list:
    return [(name, value) for name, value in message.items() if name != "Date"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_marketing_batch_mail_over_smtp_is_the_generic_mail(smtp_sink):
    """A non-essential purpose: the gate, and a one-click unsubscribe link per recipient in the
    body and the headers."""
    people = [
        UserFactory(email=email, full_name=name, language=language)
        for name, email, language in PEOPLE[:4]
    ]
    for person in people[:3]:
        services.consent_grant(
            subject=Subject(user_id=person.pk), purpose="newsletter", method="preference_centre"
        )
    context = {"title": "Neuigkeiten für Sie", "body": "News & <more>"}
    items = [
        consent_mail.OutgoingMail(
            key=p.pk, subject=Subject(user_id=p.pk), to=p.email, language=p.language
        )
        for p in people
    ]
    results = consent_mail.mail_send_batch_now(
        purpose="newsletter", template="consent/mail/announcement", context=context, items=items
    )
    assert [r.outcome for r in results] == ["sent", "sent", "sent", "refused"]
    assert len(smtp_sink.received) == 3
    newsletter = consent_mail.selectors.purpose_get("newsletter")
    for person, (_sender, rcpt, content) in zip(people, smtp_sink.received, strict=False):
        assert rcpt == [person.email]
        generic = consent_mail._message(
            to=person.email,
            subject=Subject(user_id=person.pk),
            purpose=newsletter,
            template="consent/mail/announcement",
            context=context,
            partner_id=None,
            language=person.language,
        )
        generic_bytes = generic.message().as_bytes(linesep="\r\n")
        # The signed links carry the time of signing: compared apart.
        assert (
            _unsubscribe_normalised(content).rstrip()
            == _unsubscribe_normalised(generic_bytes).rstrip()
        )
        ours = message_from_bytes(content)
        link = "".join(ours["List-Unsubscribe"].split())  # unfolded
        token = re.fullmatch(r"<.*/unsubscribe/([^/]+)/>", link)[1]
        claim = tokens.unsubscribe_token_read(token)
        assert (claim.subject, claim.purpose) == (Subject(user_id=person.pk), "newsletter")
        assert f"/unsubscribe/{token}/" in ours.get_payload(decode=True).decode()
        assert ours["List-Unsubscribe-Post"] == consent_mail.ONE_CLICK


def _unsubscribe_normalised(data: bytes) -> bytes:
    data = re.sub(rb"/unsubscribe/[^/]+/", b"/unsubscribe/TOKEN/", _normalised(data))
    return data
