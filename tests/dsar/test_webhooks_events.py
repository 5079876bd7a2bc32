"""Which changes send which events, what each payload holds, and the Art. 19 gate: an erasure or
a restriction is not done, for the person, until every subscribed system has acknowledged it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consent import services as consent_services
from dsar import selectors, services
from dsar.erasure import personal_data_leftovers
from dsar.mail import view_token
from dsar.models import ErasureSchedule, ProcessingBlock, RequestKind, WebhookEvent
from dsar.registry import Subject
from dsar.services import RequestError

from .webhook_receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receivers():
    started = []

    def make(*events: str, up: bool = True) -> Receiver:
        receiver = Receiver()
        if up:
            receiver.start()
        endpoint, receiver.secret = services.webhook_endpoint_create(
            url=receiver.url, events=list(events), actor=None
        )
        receiver.endpoint = endpoint
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        receiver.stop()


@pytest.fixture
def committed(celery_eager, django_capture_on_commit_callbacks, settings):
    """Run `action`, commit, and let the deliveries it queued run; retries are due at once."""
    settings.DSAR_WEBHOOK_BACKOFF_SECONDS = 0

    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    return run


def types(receiver: Receiver) -> list[str]:
    return [receiver.events[i]["type"] for i in receiver.arrivals]


def recipients_told(request) -> None:
    """An officer has told the recipients that have no adapter (GDPR Art. 19, by hand)."""
    for notification in request.recipient_notifications.filter(adapter=""):
        services.recipient_notification_mark_done(notification=notification, actor=None)


def in_progress(kind, user):
    request, _joined = services.dsar_request_file(kind=kind, user=user)
    return services.dsar_request_transition(request=request, to_state="in_progress", actor=None)


def test_an_erasure_is_done_only_when_every_subscribed_system_acknowledged(
    user, receivers, committed, client
):
    crm = receivers("erasure.due", "erasure.done", up=False)  # down for now
    shop = receivers("erasure.done")
    email, account = user.email, user.pk
    request = in_progress(RequestKind.ERASURE, user)
    services.dsar_request_apply(request=request, actor=None)
    ErasureSchedule.objects.filter(request=request).update(due_at=timezone.now())

    assert committed(lambda: services.erasure_run(schedule_id=request.erasure.pk))
    recipients_told(request)
    request.refresh_from_db()
    assert request.erasure.state == ErasureSchedule.State.DONE  # our own part is done
    assert request.state == "in_progress"  # but the CRM has not confirmed
    waiting = "Waiting for 1 connected system to confirm it has done the same (GDPR Art. 19)."
    assert selectors.webhook_wait_words(request) == waiting
    page = client.get(
        reverse("dsar:request_detail", args=[request.public_id]) + "?t=" + view_token(request)
    )
    assert waiting in page.content.decode()
    with pytest.raises(RequestError, match="Waiting for 1 connected system"):
        services.dsar_request_transition(request=request, to_state="completed", actor=None)
    # The shop has our erasure, with what it needs to find the person.
    (done,) = shop.events.values()
    assert done["type"] == "erasure.done"
    assert (done["data"]["email"], done["data"]["account_id"]) == (email, account)
    assert done["data"]["request"]["id"] == str(request.public_id)

    crm.start()
    committed(services.webhook_deliveries_sweep)
    request.refresh_from_db()
    assert request.state == "completed"  # the last acknowledgement completed it
    assert types(crm) == ["erasure.due", "erasure.done"]
    assert all(p["data"]["email"] == email for p in crm.events.values())
    assert selectors.webhook_wait_words(request) == ""
    # Acknowledged everywhere: the address is gone from the outbox too.
    assert set(WebhookEvent.objects.values_list("subject_email", flat=True)) == {""}
    assert personal_data_leftovers(needles=[email]) == []


def test_switching_a_silent_system_off_lets_the_erasure_complete(user, receivers, committed):
    crm = receivers("erasure.done", up=False)
    request = in_progress(RequestKind.ERASURE, user)
    services.dsar_request_apply(request=request, actor=None)
    ErasureSchedule.objects.filter(request=request).update(due_at=timezone.now())
    committed(lambda: services.erasure_run(schedule_id=request.erasure.pk))
    recipients_told(request)
    request.refresh_from_db()
    assert request.state == "in_progress"
    committed(
        lambda: services.webhook_endpoint_update(
            endpoint=crm.endpoint, url=crm.url, events=["erasure.done"], active=False, actor=None
        )
    )
    request.refresh_from_db()
    assert request.state == "completed"
    assert set(WebhookEvent.objects.values_list("subject_email", flat=True)) == {""}


def test_a_restriction_is_completed_only_after_the_systems_acknowledged(user, receivers, committed):
    crm = receivers("restriction.applied", "restriction.lifted", up=False)
    request = in_progress(RequestKind.RESTRICTION, user)
    committed(lambda: services.dsar_request_apply(request=request, actor=None))
    recipients_told(request)
    with pytest.raises(RequestError, match="Waiting for 1 connected system"):
        services.dsar_request_transition(request=request, to_state="completed", actor=None)

    crm.start()
    committed(services.webhook_deliveries_sweep)
    services.dsar_request_transition(request=request, to_state="completed", actor=None)
    (applied,) = crm.events.values()
    assert applied["type"] == "restriction.applied"
    data = applied["data"]
    assert (data["kind"], data["purpose"], data["account_id"]) == ("restriction", "*", user.pk)
    assert "email" not in data  # an account holder is found by the account id

    block = ProcessingBlock.objects.get(request=request)
    ProcessingBlock.objects.filter(pk=block.pk).update(lift_at=timezone.now() - timedelta(1))
    committed(services.processing_blocks_lift_due)
    assert types(crm) == ["restriction.applied", "restriction.lifted"]
    assert crm.events[crm.arrivals[1]]["data"]["lifted_at"]


def test_a_person_without_an_account_is_named_by_address_where_needed(receivers, committed):
    crm = receivers("restriction.applied", "consent.changed")
    committed(
        lambda: services.processing_block_add(
            kind="objection", subject=Subject(email="ann@example.com"), purpose="direct_marketing"
        )
    )
    committed(
        lambda: consent_services.consent_withdraw(
            subject=Subject(email="Ann@Example.com"),
            purpose="newsletter",
            method="unsubscribe_link",
        )
    )
    assert [p["data"].get("email") for p in crm.events.values()] == ["ann@example.com"] * 2
    assert [p["data"].get("account_id") for p in crm.events.values()] == [None, None]


def test_a_request_sends_filed_state_changes_and_completed_without_the_address(
    user, receivers, committed
):
    tracker = receivers("request.filed", "request.state_changed", "request.completed")
    request = committed(lambda: in_progress(RequestKind.ACCESS, user))
    committed(
        lambda: services.dsar_request_transition(
            request=request, to_state="rejected", actor=None, reason="Test"
        )
    )
    assert types(tracker) == ["request.filed", "request.state_changed", "request.state_changed"]
    moves = [
        (p["data"].get("from_state"), p["data"]["request"]["state"])
        for p in (tracker.events[i] for i in tracker.arrivals)
    ]
    assert moves == [(None, "verified"), ("verified", "in_progress"), ("in_progress", "rejected")]
    assert all("email" not in p["data"] for p in tracker.events.values())
    completed = in_progress(RequestKind.RESTRICTION, user)
    committed(lambda: services.dsar_request_apply(request=completed, actor=None))
    recipients_told(completed)
    committed(
        lambda: services.dsar_request_transition(
            request=completed, to_state="completed", actor=None
        )
    )
    assert types(tracker)[-2:] == ["request.state_changed", "request.completed"]


def test_publishing_a_policy_version_is_an_event(receivers, committed):
    from tests.consent.test_policy import draft

    site = receivers("policy.published")
    policy = draft("9.1", material=False, days=0)
    committed(lambda: consent_services.policy_version_publish(policy=policy))
    (published,) = site.events.values()
    assert published["data"]["version"] == "9.1" and published["data"]["material"] is False
