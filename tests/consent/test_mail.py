import re
from pathlib import Path

import pytest
from django.core import mail

from accounts.models import User
from consent import mail as consent_mail
from consent import tokens
from consent.tasks import mail_campaign_task
from dsar.registry import Subject
from dsar.services import processing_block_add

from .conftest import grant, withdraw

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
ANNOUNCEMENT = {"title": "Spring news", "body": "What is new at Workpex this spring."}


def send_one(subject, purpose="newsletter", **kwargs):
    return consent_mail.mail_send(
        subject=subject,
        purpose=purpose,
        template="consent/mail/announcement",
        context=ANNOUNCEMENT,
        **kwargs,
    )


def send_bulk(purpose="newsletter", **kwargs):
    return consent_mail.mail_send_bulk(
        recipients=User.objects.all(),
        purpose=purpose,
        template="consent/mail/announcement",
        context=ANNOUNCEMENT,
        **kwargs,
    )


def send_campaign(purpose="newsletter"):
    return consent_mail.mail_campaign_send(
        purpose=purpose, template="consent/mail/announcement", context=ANNOUNCEMENT
    )


def send_task(purpose="newsletter"):
    return mail_campaign_task(purpose, "consent/mail/announcement", ANNOUNCEMENT)


# Every way the portal can send a non-essential mail, for one account holder.
SENDING_PATHS = {
    "single": lambda subject: send_one(subject),
    "bulk": lambda subject: send_bulk(),
    "campaign": lambda subject: send_campaign(),
    "celery task": lambda subject: send_task(),
}


def test_non_essential_mail_carries_both_rfc_8058_headers(
    user, user_subject, django_capture_on_commit_callbacks
):
    grant(user_subject, "newsletter")
    with django_capture_on_commit_callbacks(execute=True):
        assert send_one(user_subject) is True
    message = mail.outbox[0]
    assert message.to == [user.email]
    link = re.fullmatch(
        r"<(https?://[^>]+/unsubscribe/[^>]+/)>", message.extra_headers["List-Unsubscribe"]
    )
    assert link, message.extra_headers
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link.group(1) in message.body  # the same link, visible in the text
    token = link.group(1).rstrip("/").rsplit("/", 1)[1]
    claim = tokens.unsubscribe_token_read(token)
    assert claim.subject == user_subject and claim.purpose == "newsletter"
    assert user.email not in link.group(1)  # account holders' links do not carry their address


def test_unsubscribe_links_are_per_recipient_and_per_purpose(user_subject):
    a = consent_mail.unsubscribe_url(subject=user_subject, purpose="newsletter")
    b = consent_mail.unsubscribe_url(subject=user_subject, purpose="events")
    c = consent_mail.unsubscribe_url(
        subject=Subject(user_id=user_subject.user_id + 1), purpose="newsletter"
    )
    assert len({a, b, c}) == 3


@pytest.mark.parametrize("path", SENDING_PATHS)
def test_a_withdrawn_purpose_stops_mail_from_every_sending_path(
    path, user_subject, django_capture_on_commit_callbacks
):
    grant(user_subject, "newsletter")
    with django_capture_on_commit_callbacks(execute=True):
        SENDING_PATHS[path](user_subject)
    assert len(mail.outbox) == 1, "the path must send while consent stands"
    withdraw(user_subject, "newsletter", method="unsubscribe_link")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        SENDING_PATHS[path](user_subject)
    assert mail.outbox == []


@pytest.mark.parametrize("path", SENDING_PATHS)
def test_an_objection_stops_mail_from_every_sending_path(
    path, user_subject, django_capture_on_commit_callbacks
):
    grant(user_subject, "newsletter")
    processing_block_add(kind="objection", subject=user_subject, purpose="direct_marketing")
    with django_capture_on_commit_callbacks(execute=True):
        SENDING_PATHS[path](user_subject)
    assert mail.outbox == []


def test_essential_mail_still_goes_to_an_unsubscribed_person(
    user, user_subject, django_capture_on_commit_callbacks
):
    grant(user_subject, "newsletter")
    from consent.services import consent_unsubscribe

    consent_unsubscribe(subject=user_subject, purpose="newsletter", everything=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_one(user_subject, purpose="account_security") is True
        assert send_bulk(purpose="payment") == 1
        assert send_one(user_subject) is False
    assert [m.to for m in mail.outbox] == [[user.email], [user.email]]
    for message in mail.outbox:
        assert "List-Unsubscribe" not in message.extra_headers  # essential: nothing to leave


def test_campaign_reaches_email_only_subscribers_once_and_accounts_once(
    user, user_subject, django_capture_on_commit_callbacks
):
    grant(user_subject, "newsletter")
    grant(Subject(email=user.email), "newsletter", method="form_submission")  # same person
    grant(Subject(email="reader@example.org"), "newsletter", method="form_submission")
    grant(Subject(email="reader@example.org"), "newsletter", method="form_submission")
    grant(Subject(email="gone@example.org"), "newsletter", method="form_submission")
    withdraw(Subject(email="gone@example.org"), "newsletter", method="unsubscribe_link")
    with django_capture_on_commit_callbacks(execute=True):
        assert send_campaign() == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([user.email, "reader@example.org"])
    by_email = next(m for m in mail.outbox if m.to == ["reader@example.org"])
    assert by_email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_mail_waits_for_the_commit(user_subject, django_capture_on_commit_callbacks):
    grant(user_subject, "newsletter")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send_one(user_subject)
    assert mail.outbox == [] and len(callbacks) == 1


def test_non_essential_mail_goes_only_to_the_address_consent_was_given_for(
    user_subject, django_capture_on_commit_callbacks
):
    grant(user_subject, "newsletter")
    with django_capture_on_commit_callbacks(execute=True):
        assert send_one(user_subject, to="someone-else@example.org") is False
    assert mail.outbox == []


def test_mail_is_in_the_recipients_language(user, user_subject, django_capture_on_commit_callbacks):
    user.language = "de"
    user.save()
    grant(user_subject, "newsletter")
    with django_capture_on_commit_callbacks(execute=True):
        consent_mail.newsletter_welcome_send(
            submission=type("S", (), {"user_id": user.pk, "email": user.email, "name": "Jo"})()
        )
    assert "Willkommen" in mail.outbox[0].subject


def test_campaign_task_for_a_purpose_that_is_gone_does_nothing():
    assert mail_campaign_task("no_such_purpose", "consent/mail/announcement") == 0
    assert mail_campaign_task("partner_notifications", "consent/mail/announcement", {}, 999999) == 0


def test_no_other_module_sends_mail():
    """The gate cannot be bypassed: the mail module is the only place that builds messages.

    This scan is for Django's mail API, which no contract can name: import-linter sees an external
    package only as a whole (`django`), never a part of it such as `django.core.mail`."""
    senders = re.compile(
        r"\b(send_mail|send_mass_mail|mail_admins|mail_managers|EmailMessage|"
        r"EmailMultiAlternatives|get_connection)\b"
    )
    # accounts/adapters.py: allauth's own account mails (confirmation, password reset) go through
    # allauth's adapter, whose send_mail the portal overrides only to put the links on SITE_URL.
    mail_module = ("consent/mail.py", "accounts/adapters.py")
    offenders = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith((".venv/", "tests/", "var/")) or relative in mail_module:
            continue
        if senders.search(path.read_text(encoding="utf-8")):
            offenders.append(relative)
    assert offenders == []
