"""Webhooks out (issue 17, point 4): every event is written to the outbox in the transaction of
its change, delivered signed per Standard Webhooks to a real receiver on 127.0.0.1 (which
verifies it with the `standardwebhooks` library), retried with backoff while the receiver is
down, and received once by its id."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from consent.services import consent_grant, consent_withdraw
from dsar import selectors, services
from dsar.models import AuditEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from dsar.registry import Subject
from dsar.services import RequestError
from dsar.services.webhooks import webhook_backoff
from dsar.webhooks import secret_decrypt

from .webhook_receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def down():
    """A receiving system that is down: nothing listens on its port until the test starts it."""
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def deliver_now(celery_eager, django_capture_on_commit_callbacks):
    """Run `action`, commit, and let the deliveries it queued run (the task's own code)."""

    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    return run


def subscribe(receiver: Receiver, *events: str) -> WebhookEndpoint:
    endpoint, secret = services.webhook_endpoint_create(
        url=receiver.url, events=list(events), description="CRM", actor=None
    )
    receiver.secret = secret
    return endpoint


def grant(user, purpose: str = "newsletter"):
    return consent_grant(
        subject=Subject(user_id=user.pk), purpose=purpose, method="preference_centre"
    )


def test_a_consent_change_reaches_the_subscribed_system_signed(user, receiver, deliver_now):
    subscribe(receiver, "consent.changed")
    deliver_now(lambda: grant(user))

    event = WebhookEvent.objects.get()
    assert list(receiver.events) == [event.message_id]  # verified with standardwebhooks
    payload = receiver.events[event.message_id]
    assert payload["type"] == "consent.changed"
    assert payload["id"] == event.message_id
    data = payload["data"]
    assert (data["purpose"], data["action"], data["account_id"]) == (
        "newsletter",
        "granted",
        user.pk,
    )
    assert "email" not in data  # an account holder is found by the account id
    delivery = event.deliveries.get()
    assert delivery.state == WebhookDelivery.State.DELIVERED
    assert [a.status_code for a in delivery.attempts.all()] == [200]


def test_a_receiver_with_another_secret_refuses_the_delivery(user, receiver, deliver_now):
    subscribe(receiver, "consent.changed")
    receiver.secret = services.webhook_endpoint_create(
        url=receiver.url, events=["request.filed"], actor=None
    )[1]  # the other endpoint's secret
    deliver_now(lambda: grant(user))
    assert receiver.refused == 1 and receiver.events == {}
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.last_status_code) == ("pending", 400)
    assert "refused" in selectors.webhook_delivery_status(delivery).text


def test_an_event_of_a_change_that_rolls_back_is_never_written(user, receiver, deliver_now):
    subscribe(receiver, "consent.changed")

    def change_then_fail():
        with transaction.atomic():
            grant(user)
            raise RuntimeError("the request failed after the change")

    with pytest.raises(RuntimeError):
        deliver_now(change_then_fail)
    assert not WebhookEvent.objects.exists() and not WebhookDelivery.objects.exists()
    assert receiver.arrivals == []


def test_nothing_is_written_for_events_nobody_subscribed_to(user, receiver, deliver_now):
    subscribe(receiver, "request.filed")
    inactive = subscribe(receiver, "consent.changed")
    WebhookEndpoint.objects.filter(pk=inactive.pk).update(active=False)
    deliver_now(lambda: grant(user))
    assert not WebhookEvent.objects.exists()


def test_a_receiver_down_for_a_while_gets_every_event_once_by_id(user, down, deliver_now, settings):
    settings.DSAR_WEBHOOK_BACKOFF_SECONDS = 0  # each retry due at once: the sweep is the clock
    subscribe(down, "consent.changed")
    for purpose in ("newsletter", "product_updates"):
        deliver_now(lambda purpose=purpose: grant(user, purpose))
    deliver_now(
        lambda: consent_withdraw(
            subject=Subject(user_id=user.pk), purpose="newsletter", method="preference_centre"
        )
    )
    ids = sorted(WebhookEvent.objects.values_list("public_id", flat=True))
    assert len(ids) == 3
    pending = WebhookDelivery.objects.filter(state="pending", tries=1, last_status_code=None)
    assert pending.count() == 3
    delivery = pending.first()
    assert "could not be reached" in selectors.webhook_delivery_status(delivery).text

    down.answer = 503  # up, but failing
    down.start()
    assert services.webhook_deliveries_sweep() == 3
    assert (
        WebhookDelivery.objects.filter(state="pending", tries=2, last_status_code=503).count() == 3
    )
    assert down.arrivals == []

    down.answer = 200
    assert services.webhook_deliveries_sweep() == 3
    assert sorted(down.arrivals) == sorted(f"evt_{i.hex}" for i in ids)  # each once
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"delivered"}
    assert WebhookAttempt.objects.count() == 9

    # A repeated message, and a later sweep, send nothing again.
    assert not services.webhook_deliver(delivery_id=delivery.pk)
    assert services.webhook_deliveries_sweep() == 0
    assert len(down.arrivals) == 3


def test_retries_back_off_exponentially_up_to_a_cap(user, down, deliver_now, settings):
    settings.DSAR_WEBHOOK_BACKOFF_SECONDS = 30
    settings.DSAR_WEBHOOK_BACKOFF_MAX_SECONDS = 100
    assert [webhook_backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 100, 100]
    subscribe(down, "consent.changed")
    before = timezone.now()
    deliver_now(lambda: grant(user))
    delivery = WebhookDelivery.objects.get()
    assert before + timedelta(seconds=29) < delivery.due_at < timezone.now() + timedelta(seconds=31)
    assert services.webhook_deliveries_sweep() == 0  # not due yet
    assert services.webhook_deliveries_sweep(now=delivery.due_at) == 1


def test_a_delivery_past_its_tries_fails_in_plain_words_and_a_replay_sends_it_once(
    user, down, deliver_now, settings
):
    settings.DSAR_WEBHOOK_BACKOFF_SECONDS = 0
    settings.DSAR_WEBHOOK_MAX_ATTEMPTS = 2
    subscribe(down, "consent.changed")
    deliver_now(lambda: grant(user))
    services.webhook_deliveries_sweep()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.tries) == ("failed", 2)
    status = selectors.webhook_delivery_status(delivery).text
    assert "not tried again automatically" in status and "replay" in status
    assert services.webhook_deliveries_sweep() == 0  # failed: left for an officer
    assert AuditEvent.objects.filter(action="webhook_delivery_failed").count() == 1

    down.start()
    deliver_now(lambda: services.webhook_deliveries_replay(deliveries=[delivery], actor=None))
    delivery.refresh_from_db()
    assert delivery.state == "delivered"
    assert down.arrivals == [delivery.event.message_id]
    # Replaying an acknowledged delivery sends the same id again: the receiver keeps it once.
    deliver_now(lambda: services.webhook_deliveries_replay(deliveries=[delivery], actor=None))
    assert down.arrivals == [delivery.event.message_id] * 2 and len(down.events) == 1


def test_the_secret_is_stored_encrypted_and_a_rotated_one_signs_from_then_on(
    user, receiver, deliver_now
):
    endpoint = subscribe(receiver, "consent.changed")
    old = receiver.secret
    assert old.startswith("whsec_") and old not in endpoint.secret_encrypted
    assert secret_decrypt(endpoint.secret_encrypted) == old
    new = services.webhook_endpoint_rotate_secret(endpoint=endpoint, actor=None)
    assert new != old
    deliver_now(lambda: grant(user))
    assert receiver.refused == 1  # still verifying with the old secret
    receiver.secret = new
    deliver_now(lambda: grant(user, "product_updates"))
    assert len(receiver.events) == 1


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://example.com/hooks", "https://"),
        ("https://user:secret@example.com/hooks", "user name and password"),
        ("http://127.0.0.1:8000/hooks", "private, loopback"),
        ("http://10.1.2.3/hooks", "private, loopback"),
        ("http://[::1]/hooks", "private, loopback"),
        ("http://localhost/hooks", "private, loopback"),
    ],
)
def test_addresses_other_than_public_http_are_refused(settings, url, words):
    settings.DSAR_WEBHOOK_ALLOW_PRIVATE_URLS = False
    with pytest.raises(RequestError, match=words):
        services.webhook_endpoint_create(url=url, events=["consent.changed"], actor=None)
    assert not WebhookEndpoint.objects.exists()


def test_a_public_address_is_accepted_and_unknown_events_are_not(settings):
    settings.DSAR_WEBHOOK_ALLOW_PRIVATE_URLS = False
    with pytest.raises(RequestError, match="Unknown event"):
        services.webhook_endpoint_create(
            url="https://93.184.215.14/hooks", events=["consent.eaten"], actor=None
        )
    endpoint, _secret = services.webhook_endpoint_create(
        url="https://93.184.215.14/hooks", events=["erasure.done", "consent.changed"], actor=None
    )
    assert endpoint.events == ["consent.changed", "erasure.done"]


def test_an_endpoint_that_became_private_is_refused_at_send_time(
    user, receiver, deliver_now, settings
):
    subscribe(receiver, "consent.changed")
    settings.DSAR_WEBHOOK_ALLOW_PRIVATE_URLS = False
    deliver_now(lambda: grant(user))
    assert receiver.arrivals == []
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and "private, loopback" in attempt.error


@pytest.fixture
def worker_retries_at_once(monkeypatch):
    """The worker process started next retries a failed delivery at the next sweep."""
    monkeypatch.setenv("WEBHOOK_BACKOFF_SECONDS", "0")


@pytest.mark.worker
def test_a_real_worker_delivers_after_the_commit_and_retries_until_the_receiver_is_up(
    worker_retries_at_once, celery_worker_process, user, down
):
    from tests.conftest import wait_for

    subscribe(down, "consent.changed")
    grant(user)  # committed: the worker is woken by the broker
    delivery = wait_for(lambda: WebhookDelivery.objects.filter(tries=1, state="pending").first())
    assert "could not be reached" in delivery.last_error
    down.start()
    services.webhook_deliveries_sweep()  # what beat runs every minute
    wait_for(lambda: WebhookDelivery.objects.filter(state="delivered").exists())
    assert down.arrivals == [WebhookEvent.objects.get().message_id]


def test_a_delivery_whose_worker_died_mid_send_is_sent_again_by_the_sweep(
    user, receiver, deliver_now
):
    subscribe(receiver, "consent.changed")
    receiver.answer = 503
    deliver_now(lambda: grant(user))
    receiver.answer = 200
    delivery = WebhookDelivery.objects.get()
    # A worker claimed it and died before recording anything.
    claimed = timezone.now() - timedelta(minutes=6)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state="sending", claimed_at=claimed)
    assert services.webhook_deliveries_sweep(now=claimed + timedelta(minutes=4)) == 0  # in time
    assert services.webhook_deliveries_sweep() == 1
    delivery.refresh_from_db()
    assert delivery.state == "delivered"
    assert receiver.arrivals == [delivery.event.message_id]
