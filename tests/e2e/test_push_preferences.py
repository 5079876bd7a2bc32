"""A person switches push notifications off for one purpose in the preference centre, with the
keyboard; the newsletter then reaches them by email only. Then they remove a device."""

from django.core import mail

from consent import mail as consent_mail
from consent import selectors
from consent.models import ConsentEvent
from consent.services import consent_record
from dsar.registry import Subject
from notifications import push
from notifications.models import Device, TestModePush
from notifications.services import device_register
from tests.accounts.factories import PASSWORD, UserFactory

NEWS = {"title": "Spring news", "body": "What is new at Workpex this spring."}


def send_both(subject):
    pushed = push.push_send(
        subject=subject,
        purpose="newsletter",
        template="notifications/push/announcement",
        context=NEWS,
    )
    mailed = consent_mail.mail_send(
        subject=subject, purpose="newsletter", template="consent/mail/announcement", context=NEWS
    )
    return pushed, mailed


def test_switch_push_off_for_the_newsletter_and_remove_a_device(page, screenshot):
    user = UserFactory(username="pushy")
    subject = Subject(user_id=user.pk)
    device, _created = device_register(user=user, platform="apple", token="ab" * 32, name="Phone")
    for channel in ("", "push"):
        consent_record(
            subject=subject,
            purpose="newsletter",
            action="granted",
            method="preference_centre",
            channel=channel,
        )
    assert send_both(subject) == (1, True)

    page.goto("/accounts/login/")
    page.get_by_label("Username or email").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/accounts/profile/")

    page.goto("/preferences/")
    newsletter = page.get_by_role("group", name="Newsletter", exact=True)
    by_email = newsletter.get_by_role("switch", name="By email")
    by_push = newsletter.get_by_role("switch", name="As push notifications on my devices")
    assert by_email.is_checked() and by_push.is_checked()
    screenshot("both-channels-on")
    by_push.focus()
    page.keyboard.press("Space")  # keyboard only
    assert not by_push.is_checked() and by_email.is_checked()
    page.get_by_role("button", name="Save my preferences").click()
    page.wait_for_url("**/preferences/")
    assert "Your preferences are saved." in page.content()
    newsletter = page.get_by_role("group", name="Newsletter", exact=True)
    assert not newsletter.get_by_role(
        "switch", name="As push notifications on my devices"
    ).is_checked()
    assert newsletter.get_by_role("switch", name="By email").is_checked()
    screenshot("push-off")

    latest = ConsentEvent.objects.filter(user=user).order_by("-id").first()
    assert (latest.channel, latest.action, latest.method) == (
        "push",
        "withdrawn",
        "preference_centre",
    )
    assert not selectors.can_contact(subject, "newsletter", channel="push")
    mail.outbox.clear()
    pushes_before = TestModePush.objects.filter(purpose="newsletter").count()
    assert send_both(subject) == (0, True)
    assert TestModePush.objects.filter(purpose="newsletter").count() == pushes_before
    assert len(mail.outbox) == 1

    # The device, on the account page: removing it deletes its token.
    page.goto("/accounts/profile/")
    page.get_by_role("link", name="My devices (push notifications)").click()
    page.wait_for_url("**/accounts/devices/")
    screenshot("devices")
    page.get_by_role("button", name="Remove Phone").click()
    page.wait_for_url("**/accounts/devices/")
    assert "its token is deleted" in page.content()
    screenshot("device-removed")
    assert not Device.objects.filter(pk=device.pk).exists()
