"""Batch mail (policy notices) is rendered once per language with the per-recipient values filled
in, and its bytes are written directly for Django's SMTP backend (`consent.mime`). These tests
pin that the mails are exactly what the generic path makes: Django's templates rendered per
recipient, `EmailMultiAlternatives(...).message().as_bytes()`, `sanitize_address`."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from email.utils import parseaddr

import pytest
from django.conf import settings
from django.core.mail.message import forbid_multi_line_headers, sanitize_address
from django.template import engines
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from consent import mail as consent_mail
from consent import mime, policies, services, tokens
from consent.models import PolicyNotice
from dsar.registry import Subject
from tests.factories import UserFactory

# --- The bytes, against Django's EmailMessage --------------------------------------------------

LONG_LINE = "x" * 990 + " ünïcode " + "y" * 20  # over 998 bytes: quoted-printable
UNSUBSCRIBE = "https://portal.example/unsubscribe/" + "A1b2-C3_d4" * 12 + "/"


def _case(*, title: str, body: str, html: str | None, to: str) -> dict:
    return {"title": title, "body": body, "html": html, "to": to}


CASES = {
    "ascii": _case(title="Hello", body="Plain text.\n", html=None, to="a@example.com"),
    "utf-8 body": _case(title="Hi", body="Grüße · ok\n", html=None, to="b.c+d@example.com"),
    "german subject": _case(
        title="Unsere Datenschutzerklärung ändert sich am 3. März 2027 – bitte lesen Sie sie",
        body="Hallo Jörg,\n\nText.\n",
        html=None,
        to="joerg@example.de",
    ),
    "long subject": _case(title="word " * 40, body="b\n", html=None, to="a@example.com"),
    "long line": _case(title="Long", body=f"start\n{LONG_LINE}\nend\n", html=None, to="a@x.io"),
    "line endings": _case(title="Ends", body="a\r\nb\rc\nd", html=None, to="a@example.com"),
    "empty body": _case(title="Empty", body="", html=None, to="a@example.com"),
    "html": _case(title="Html", body="Text ü\n", html="<p>Html ü</p>\n", to="a@example.com"),
    "html only": _case(title="Html", body="", html="<p>Only</p>", to="a@example.com"),
    "html long line": _case(title="H", body="t\n", html=f"<p>{LONG_LINE}</p>", to="a@x.io"),
    "non-ascii address": _case(title="A", body="b\n", html=None, to="jörg@exämple.de"),
    "display name": _case(title="A", body="b\n", html=None, to="Zoë Ångström <zoe@example.com>"),
}
HEADERS = {
    "essential": {"Message-ID": "<policy-notice.42@workpex.example>"},
    "marketing": {
        "List-Unsubscribe": f"<{UNSUBSCRIBE}>",
        "List-Unsubscribe-Post": consent_mail.ONE_CLICK,
        "Message-ID": "<policy-notice.43@workpex.example>",
    },
    "no message id": {},
}


def _normalised(data: bytes) -> bytes:
    """Without what differs on every call: the date, a generated Message-ID, the boundary."""
    data = re.sub(rb"\r\nDate: [^\r]+\r\n", b"\r\nDate: DATE\r\n", data)
    data = re.sub(rb"Message-ID: <\d+\.\d+\.\d+@[^>]+>", b"Message-ID: <GENERATED>", data)
    return re.sub(rb"={15}\d{19}==(\.\d+)?", b"BOUNDARY", data)


@pytest.mark.parametrize("headers", HEADERS.values(), ids=HEADERS.keys())
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_bytes_are_djangos(case, headers):
    django = consent_mail._email(**case, headers=headers).message().as_bytes(linesep="\r\n")
    ours = mime.message_bytes(**case, headers=headers)
    assert _normalised(ours) == _normalised(django)
    assert b"Date: " in ours and b"Message-ID: " in ours


@pytest.mark.parametrize("name", ["To", "Subject", "Message-ID", "X-Long-Header-Name-For-Tests"])
@pytest.mark.parametrize(
    "value",
    [
        "a@example.com",
        "<policy-notice.42@workpex.example>",
        *("x" * n for n in (40, 64, 65, 66, 67, 68, 74, 75, 76, 77, 78, 100)),
        "two words",
        "tab\there",
        "bell\x07",
        "form\x0cfeed",
        "ümlaut",  # not an address: both fail for To
        "Zoë <z@example.com>",
        "",
    ],
)
def test_short_header_lines_are_folded_as_by_the_email_package(name, value):
    def folded(value):
        return mime._POLICY.fold_binary(*forbid_multi_line_headers(name, value, "utf-8"))

    assert _outcome(lambda v: mime.header(name, v), value) == _outcome(folded, value)


def _outcome(function, address):
    try:
        return function(address)
    except ValueError as error:  # UnicodeError too
        return type(error)


@pytest.mark.parametrize(
    "address",
    [
        "bench_0000001@bench.example",
        "A.B-c+d_e!#$%&'*/=?^`{|}~@Sub.Example-1.COM",
        "a@b",
        "Name <a@example.com>",
        "jörg@example.de",
        "a@exämple.de",
        '"quoted local"@example.com',
        "a..b@example.com",
        ".a@example.com",
        "a@b..c",
        "a@-b.c",
        "a@" + "x" * 63 + ".com",
        "a@" + "x" * 64 + ".com",
        "no-at-sign",
        "a@b@c",
    ],
)
def test_envelope_addresses_are_djangos(address):
    assert _outcome(mime.envelope_address, address) == _outcome(
        lambda a: sanitize_address(a, "utf-8"), address
    )


# --- Rendering once, filling in per recipient ---------------------------------------------------

NAMES = [
    "Ada",
    "O'Brien & <Söhne>",
    "Zoë Ångström",
    "山田 太郎",
    "  two  spaces ",
    "%(name)s {{ x }}",
]


def _templates(subject: str, body: str, html: str | None = None) -> consent_mail.MailTemplates:
    engine = engines["django"]
    return consent_mail.MailTemplates(
        subject=engine.from_string(subject),
        body=engine.from_string(body),
        html=engine.from_string(html) if html is not None else None,
    )


def _rendered_per_recipient(templates, context, language):
    with translation.override(language):
        title = " ".join(templates.subject.render(context).split())
        html = templates.html.render(context) if templates.html else None
        return title, templates.body.render(context), html


@pytest.mark.parametrize("language", ["en", "de"])
def test_filled_drafts_are_the_templates_rendered_per_recipient(language):
    templates = _templates(
        subject="{% load i18n %}{% translate 'Hello' %} {{ name }}  and {{ other }}",
        body="{% load i18n %}{% blocktranslate %}Hello {{ name }},{% endblocktranslate %}\n"
        "{{ name }} {% autoescape off %}{{ name }} {{ name|safe }} {{ name|escape }}"
        "{% endautoescape %} {{ name|force_escape }} {{ fixed }}",
        html="<p>{{ name }}</p><p>{{ name|safe }}</p>{% if name %}{{ fixed }}{% endif %}",
    )
    context = {"fixed": "<b>&</b>"}
    draft = templates.draft(context, language=language, slots=("name", "other"))
    for name in [*NAMES, ""]:
        values = {"name": name, "other": "x y"}
        expected = _rendered_per_recipient(templates, {**context, **values}, language)
        assert draft.texts(values) == expected, name


@pytest.mark.parametrize(
    "body",
    [
        "{{ name|upper }}",
        "{{ name|linebreaks }}",
        "{{ name|linebreaksbr }}",
        "{{ name|title }}",
        "{{ name|force_escape|force_escape }}",
        "{{ name|urlencode }}",
        "{{ name|cut:'x' }}{{ name|slice:'2:' }}",
    ],
)
def test_a_filtered_per_recipient_value_is_refused(body):
    with pytest.raises(ValueError, match="filters a per-recipient value"):
        _templates(subject="s", body=body).draft({}, slots=("name",))


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


def test_a_charset_other_than_utf8_fails_the_system_check(settings):
    from consent.checks import check_mail_charset_is_utf8

    assert check_mail_charset_is_utf8() == []
    settings.DEFAULT_CHARSET = "iso-8859-1"
    assert [error.id for error in check_mail_charset_is_utf8()] == ["consent.E002"]
