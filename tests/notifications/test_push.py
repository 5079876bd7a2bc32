import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from consent import mail as consent_mail
from consent import selectors
from consent import services as consent_services
from dsar.services import processing_block_add
from notifications import push
from notifications.models import Device, TestModePush
from notifications.providers import PushProvider, PushResult
from notifications.tasks import push_campaign_task
from tests.accounts.factories import UserFactory

from .conftest import register, subject_of

pytestmark = pytest.mark.django_db
NEWS = {"title": "Spring news", "body": "What is new at Workpex this spring."}


def record(user, purpose, action, channel=""):
    return consent_services.consent_record(
        subject=subject_of(user),
        purpose=purpose,
        action=action,
        method="preference_centre",
        channel=channel,
    )


def push_one(user, purpose="newsletter"):
    return push.push_send(
        subject=subject_of(user),
        purpose=purpose,
        template="notifications/push/announcement",
        context=NEWS,
    )


def mail_one(user, purpose="newsletter"):
    return consent_mail.mail_send(
        subject=subject_of(user),
        purpose=purpose,
        template="consent/mail/announcement",
        context=NEWS,
    )


def sent(capture, send):
    """Run `send`, deliver what waits for the commit, and say how many it reached."""
    with capture(execute=True):
        return send()


@pytest.fixture
def person(db, django_capture_on_commit_callbacks):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        register(user, "apple")
    return user


def test_a_withdrawn_channel_or_purpose_stops_push_while_email_still_goes(
    person, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    record(person, "newsletter", "granted")
    # A purpose granted (by a form, by email): mail goes, push needs its own "yes".
    assert sent(capture, lambda: push_one(person)) == 0
    assert sent(capture, lambda: mail_one(person)) is True
    record(person, "newsletter", "granted", channel="push")
    assert sent(capture, lambda: push_one(person)) == 1
    assert TestModePush.objects.filter(user=person, purpose="newsletter").count() == 1

    # Push switched off for the newsletter: no push, the newsletter mail still goes.
    record(person, "newsletter", "withdrawn", channel="push")
    mail.outbox.clear()
    assert sent(capture, lambda: push_one(person)) == 0
    assert sent(capture, lambda: mail_one(person)) is True
    assert len(mail.outbox) == 1
    assert TestModePush.objects.filter(purpose="newsletter").count() == 1

    # Email off, push on: push goes, the mail does not.
    record(person, "newsletter", "granted", channel="push")
    record(person, "newsletter", "withdrawn", channel="email")
    mail.outbox.clear()
    assert sent(capture, lambda: push_one(person)) == 1
    assert sent(capture, lambda: mail_one(person)) is False
    assert mail.outbox == []

    # The purpose withdrawn (one row): every channel stops.
    record(person, "newsletter", "withdrawn")
    assert sent(capture, lambda: push_one(person)) == 0
    assert sent(capture, lambda: mail_one(person)) is False
    assert TestModePush.objects.filter(purpose="newsletter").count() == 2


def test_push_for_one_purpose_does_not_open_another(person, django_capture_on_commit_callbacks):
    record(person, "newsletter", "granted")
    record(person, "newsletter", "granted", channel="push")
    record(person, "events", "granted")
    assert sent(django_capture_on_commit_callbacks, lambda: push_one(person, "events")) == 0
    assert sent(django_capture_on_commit_callbacks, lambda: mail_one(person, "events")) is True


def test_granting_again_after_a_withdrawal_starts_afresh(person):
    record(person, "newsletter", "granted")
    record(person, "newsletter", "granted", channel="push")
    record(person, "newsletter", "withdrawn", channel="email")
    record(person, "newsletter", "withdrawn")  # e.g. the unsubscribe link
    record(person, "newsletter", "granted")  # e.g. a newsletter form, later
    subject = subject_of(person)
    assert selectors.can_contact(subject, "newsletter", channel="email") is True
    assert selectors.can_contact(subject, "newsletter", channel="push") is False


def test_restriction_and_objection_stop_push_too(person, django_capture_on_commit_callbacks):
    record(person, "newsletter", "granted")
    record(person, "newsletter", "granted", channel="push")
    processing_block_add(
        subject=subject_of(person), kind="objection", purpose="direct_marketing", reason="Stop"
    )
    assert sent(django_capture_on_commit_callbacks, lambda: push_one(person)) == 0
    assert not selectors.contactable(
        User.objects.filter(pk=person.pk), purpose="newsletter", channel="push"
    ).exists()


def test_essential_push_goes_out_whatever_was_withdrawn(person, django_capture_on_commit_callbacks):
    record(person, "newsletter", "withdrawn")
    assert sent(django_capture_on_commit_callbacks, lambda: push_one(person, "account_security"))
    assert TestModePush.objects.filter(purpose="account_security").count() == 1


def test_people_without_devices_or_account_get_nothing(django_capture_on_commit_callbacks):
    from dsar.registry import Subject

    lonely = UserFactory()
    assert (
        sent(django_capture_on_commit_callbacks, lambda: push_one(lonely, "account_security")) == 0
    )
    assert not TestModePush.objects.exists()
    by_email = Subject(email="nobody-with-an-app@example.com")
    assert push.push_send(subject=by_email, purpose="account_security", template="x") == 0


def test_partners_and_data_uses_have_no_push_channel(person):
    with pytest.raises(ValueError):
        selectors.can_contact(subject_of(person), "partner_notifications", channel="push")
    with pytest.raises(ValueError):
        selectors.can_contact(subject_of(person), "newsletter", channel="sms")
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        record(person, "testimonial", "granted", channel="push")


def test_notifications_speak_each_persons_language(django_capture_on_commit_callbacks):
    german = UserFactory(language="de")
    with django_capture_on_commit_callbacks(execute=True):
        register(german, "google")
        register(german, "apple", name="Neues Telefon")
    [notice] = TestModePush.objects.all()
    assert notice.title == "Neues Gerät für Ihr Workpex-Konto"


# --- Many people: the bulk path ------------------------------------------------------------------


def people_with_devices(n: int, *, push_on: bool = True) -> list[User]:
    users = []
    for _ in range(n):
        user = UserFactory()
        register(user, "apple")
        record(user, "newsletter", "granted")
        if push_on:
            record(user, "newsletter", "granted", channel="push")
        users.append(user)
    return users


def bulk(batch_size=2):
    return push.push_send_bulk(
        recipients=User.objects.all(),
        purpose="newsletter",
        template="notifications/push/announcement",
        context=NEWS,
        batch_size=batch_size,
    )


def queries_of(send, capture) -> int:
    with CaptureQueriesContext(connection) as queries, capture(execute=True):
        send()
    return len(queries)


def test_bulk_push_reaches_exactly_the_allowed_devices(django_capture_on_commit_callbacks):
    allowed = people_with_devices(3)
    email_only = people_with_devices(2, push_on=False)
    withdrawn = people_with_devices(1)
    record(withdrawn[0], "newsletter", "withdrawn")
    channel_off = people_with_devices(1)
    record(channel_off[0], "newsletter", "withdrawn", channel="push")
    register(allowed[0], "windows")  # a second device of one person
    TestModePush.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        assert bulk() == 4
    reached = set(TestModePush.objects.values_list("user_id", flat=True))
    assert reached == {u.pk for u in allowed}
    assert not reached & {u.pk for u in email_only + withdrawn + channel_off}


def test_bulk_push_takes_queries_per_batch_not_per_person(django_capture_on_commit_callbacks):
    people_with_devices(4)
    few = queries_of(lambda: bulk(batch_size=2), django_capture_on_commit_callbacks)
    people_with_devices(4)
    TestModePush.objects.all().delete()
    # Twice the people in batches twice as big: the same number of batches, the same queries.
    many = queries_of(lambda: bulk(batch_size=4), django_capture_on_commit_callbacks)
    assert few == many
    # The purpose; per batch: devices, the gate, the provider's insert; a read that finds the end.
    assert many == 1 + 2 * 3 + 1


def test_the_campaign_task_sends_and_returns_quietly_without_its_purpose(
    django_capture_on_commit_callbacks,
):
    people_with_devices(2)
    TestModePush.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert push_campaign_task("newsletter", "notifications/push/announcement", NEWS) == 2
    assert TestModePush.objects.filter(purpose="newsletter").count() == 2
    assert push_campaign_task("no_such_purpose", "notifications/push/announcement") == 0


# --- The provider -------------------------------------------------------------------------------


def test_tokens_the_provider_reports_dead_are_deleted(django_capture_on_commit_callbacks):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        dead = register(user, "google", token="unregistered" + "x" * 80)
        alive = register(user, "apple")
        push_one(user, "account_security")
    assert list(Device.objects.values_list("pk", flat=True)) == [alive.pk]
    assert dead.token not in str(list(TestModePush.objects.values()))


class FailingProvider(PushProvider):
    def send(self, notifications):
        raise ConnectionError("push service down")


class CountingProvider(PushProvider):
    batches: list = []

    def send(self, notifications):
        CountingProvider.batches.append(len(notifications))
        return PushResult(delivered=len(notifications))


def test_a_failing_provider_is_logged_and_does_not_break_the_caller(
    person, settings, django_capture_on_commit_callbacks, caplog
):
    settings.NOTIFICATIONS_PUSH_PROVIDER = "tests.notifications.test_push.FailingProvider"
    assert sent(django_capture_on_commit_callbacks, lambda: push_one(person, "account_security"))
    assert "push provider failed" in caplog.text
    assert Device.objects.filter(user=person).exists()


def test_the_provider_is_chosen_by_the_setting(settings, django_capture_on_commit_callbacks):
    settings.NOTIFICATIONS_PUSH_PROVIDER = "tests.notifications.test_push.CountingProvider"
    CountingProvider.batches = []
    people_with_devices(3)
    with django_capture_on_commit_callbacks(execute=True):
        bulk(batch_size=2)
    assert CountingProvider.batches == [2, 1]
    assert not TestModePush.objects.exists()
