"""Consent per purpose and per channel (email, push): the ledger rows, the gate, the preference
centre (signed in and through the emailed link)."""

import itertools
import json
import re

import pytest
from django.core.exceptions import ValidationError

from accounts.models import User
from consent import selectors, services, tokens
from consent.models import ConsentEvent
from dsar.registry import Subject
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

# Histories of one purpose: (channel, action) rows, oldest first; what email and push say after.
HISTORIES = [
    ([], False, False),
    ([("", "granted")], True, False),  # a grant from before channels: mail as always, no push
    ([("", "granted"), ("push", "granted")], True, True),
    ([("", "granted"), ("push", "granted"), ("push", "withdrawn")], True, False),
    ([("", "granted"), ("email", "withdrawn"), ("push", "granted")], False, True),
    ([("", "granted"), ("push", "granted"), ("", "withdrawn")], False, False),
    ([("", "granted"), ("push", "granted"), ("", "withdrawn"), ("", "granted")], True, False),
    ([("", "granted"), ("", "withdrawn"), ("push", "granted")], False, False),
    ([("", "withdrawn"), ("push", "granted"), ("", "granted")], True, True),
    ([("push", "granted")], False, False),  # a channel alone is not a consent
]


def write(subject, rows, purpose="newsletter"):
    for channel, action in rows:
        services.consent_record(
            subject=subject,
            purpose=purpose,
            action=action,
            method="preference_centre",
            channel=channel,
        )


@pytest.mark.parametrize("rows,email,push", HISTORIES)
def test_every_reading_of_the_ledger_agrees(rows, email, push):
    user = UserFactory()
    subject = Subject(user_id=user.pk)
    write(subject, rows)
    state = selectors.consent_state(subject=subject)
    newsletter = selectors.purpose_get("newsletter")
    users = User.objects.filter(pk=user.pk)
    for channel, expected in (("email", email), ("push", push)):
        assert selectors.can_contact(subject, "newsletter", channel=channel) is expected, channel
        assert state.granted(newsletter, channel=channel) is expected, channel
        bulk = selectors.contactable(users, purpose="newsletter", channel=channel).exists()
        assert bulk is expected, channel
    assert selectors.can_contact(subject, "newsletter") is email  # email is the default


def test_the_bulk_gate_keeps_each_persons_channels_apart():
    people = []
    for rows, _email, _push in HISTORIES:
        user = UserFactory()
        write(Subject(user_id=user.pk), rows)
        people.append((user, _email, _push))
    users = User.objects.filter(pk__in=[u.pk for u, *_ in people])
    for index, channel in ((1, "email"), (2, "push")):
        expected = {p[0].pk for p in people if p[index]}
        got = set(
            selectors.contactable(users, purpose="newsletter", channel=channel).values_list(
                "pk", flat=True
            )
        )
        assert got == expected, channel


def test_only_message_purposes_take_channel_rows():
    subject = Subject(user_id=UserFactory().pk)
    for purpose, channel in itertools.product(
        ("testimonial", "partner_notifications", "analytics_cookies"), ("email", "push")
    ):
        with pytest.raises(ValidationError):
            services.consent_record(
                subject=subject,
                purpose=purpose,
                action="granted",
                method="preference_centre",
                channel=channel,
            )
    assert not ConsentEvent.objects.exists()


def test_a_channel_row_does_not_tell_other_apps_the_consent_was_withdrawn():
    from consent.signals import consent_withdrawn

    heard = []

    def listener(**kwargs):
        heard.append(kwargs["purpose"])

    consent_withdrawn.connect(listener)
    try:
        subject = Subject(user_id=UserFactory().pk)
        write(subject, [("", "granted"), ("push", "granted"), ("push", "withdrawn")])
        assert heard == []
        write(subject, [("", "withdrawn")])
        assert heard == ["newsletter"]
    finally:
        consent_withdrawn.disconnect(listener)


# --- The preference centre ------------------------------------------------------------------


def group_of(page: str, code: str) -> str:
    return re.search(rf'<fieldset[^>]*data-purpose="{code}".*?</fieldset>', page, re.S).group(0)


def test_preferences_show_an_email_and_a_push_switch_per_purpose(user_client):
    page = user_client.get("/preferences/").content.decode()
    for code in ("newsletter", "product_updates", "events", "marketing"):
        group = group_of(page, code)
        assert "<legend" in group
        for name in (f"purpose_{code}", f"push_{code}"):
            switch = re.search(rf'<input[^>]*name="{name}"[^>]*>', group).group(0)
            assert 'role="switch"' in switch and "checked" not in switch
            field_id = re.search(r'id="([^"]+)"', switch).group(1)
            assert f'<label class="form-check-label" for="{field_id}">' in group
    assert 'data-purpose="partner_notifications"' not in page  # partners mail only
    assert 'data-purpose="testimonial"' not in page and 'name="purpose_testimonial"' in page
    assert "<script" not in page.split("<main", 1)[-1].split("</main>", 1)[0]


def test_switching_push_off_keeps_email_and_both_off_withdraws(user_client, user):
    subject = Subject(user_id=user.pk)
    user_client.post("/preferences/", {"purpose_newsletter": "on", "push_newsletter": "on"})
    assert selectors.can_contact(subject, "newsletter", channel="push")
    assert selectors.can_contact(subject, "newsletter", channel="email")
    page = user_client.get("/preferences/").content.decode()
    assert "checked" in re.search(r'<input[^>]*name="push_newsletter"[^>]*>', page).group(0)

    before = ConsentEvent.objects.count()
    user_client.post("/preferences/", {"purpose_newsletter": "on"})
    assert list(ConsentEvent.objects.order_by("-id").values_list("channel", "action")[:1]) == [
        ("push", "withdrawn")
    ]
    assert ConsentEvent.objects.count() == before + 1
    assert not selectors.can_contact(subject, "newsletter", channel="push")
    assert selectors.can_contact(subject, "newsletter", channel="email")

    user_client.post("/preferences/", {"purpose_newsletter": "on"})  # nothing changed
    assert ConsentEvent.objects.count() == before + 1

    user_client.post("/preferences/", {})
    assert ConsentEvent.objects.order_by("-id").values_list("channel", "action")[0] == (
        "",
        "withdrawn",
    )
    assert not selectors.can_contact(subject, "newsletter", channel="email")


def test_push_only_is_a_standing_consent_without_mail(user_client, user):
    subject = Subject(user_id=user.pk)
    user_client.post("/preferences/", {"push_events": "on"})
    assert list(
        ConsentEvent.objects.filter(purpose__code="events")
        .order_by("id")
        .values_list("channel", "action")
    ) == [("", "granted"), ("email", "withdrawn"), ("push", "granted")]
    assert selectors.can_contact(subject, "events", channel="push")
    assert not selectors.can_contact(subject, "events", channel="email")


def test_the_emailed_link_shows_and_saves_the_channel_switches(client):
    services.consent_record(
        subject=Subject(email="reader@example.org"),
        purpose="newsletter",
        action="granted",
        method="form_submission",
    )
    token = tokens.preferences_token_make(email="reader@example.org")
    page = client.get(f"/preferences/link/{token}/", follow=True).content.decode()
    group = group_of(page, "newsletter")
    assert 'name="push_newsletter"' in group and 'name="purpose_newsletter"' in group
    client.post("/preferences/", {"purpose_newsletter": "on", "push_newsletter": "on"})
    subject = Subject(email="reader@example.org")
    assert selectors.can_contact(subject, "newsletter", channel="push")
    # Should the reader open an account with that address, the choice is theirs there too.
    reader = UserFactory(email="reader@example.org")
    assert selectors.can_contact(Subject(user_id=reader.pk), "newsletter", channel="push")


def test_the_receipt_shows_each_channel(user_client, user):
    user_client.post("/preferences/", {"push_newsletter": "on"})
    receipt = json.loads(user_client.get("/preferences/receipt.json").content)
    newsletter = next(s for s in receipt["consentState"] if s["purpose"] == "newsletter")
    assert newsletter["channels"] == {"email": False, "push": True}
    assert {h["channel"] for h in receipt["consentHistory"]} == {"all", "email", "push"}


def test_the_privacy_dashboard_names_the_channels_that_are_on(user_client):
    user_client.post("/preferences/", {"purpose_newsletter": "on", "push_newsletter": "on"})
    user_client.post(
        "/preferences/",
        {"purpose_newsletter": "on", "push_newsletter": "on", "push_events": "on"},
    )
    page = user_client.get("/privacy/").content.decode()
    assert re.search(r"Newsletter\s*<span[^>]*>\(Email, Push notification\)</span>", page)
    assert re.search(r"Events and webinars\s*<span[^>]*>\(Push notification\)</span>", page)
