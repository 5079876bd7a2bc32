from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from dsar import selectors, services
from dsar.models import (
    DIRECT_MARKETING,
    AuditEvent,
    ProcessingBlock,
    RecipientNotification,
    RequestKind,
    RequestState,
)
from dsar.registry import Subject
from tests.accounts.factories import UserFactory

from . import adapters

PROVIDERS = [
    {"key": "crm", "name": "CRM provider", "adapter": "tests.dsar.adapters.RecordingAdapter"},
    {
        "key": "mailer",
        "name": "Mail provider",
        "adapter": "dsar.recipients.MailAdapter",
        "contact": "privacy@mailer.example",
    },
    {"key": "printer", "name": "Print shop", "adapter": ""},
]


@pytest.fixture(autouse=True)
def providers(settings):
    settings.DSAR_SERVICE_PROVIDERS = PROVIDERS
    adapters.TOLD.clear()


def restriction_in_progress(user, purpose="behaviour_analytics"):
    request, _ = services.dsar_request_file(
        kind=RequestKind.RESTRICTION, user=user, purposes=[purpose]
    )
    return services.dsar_request_transition(request=request, to_state="in_progress", actor=None)


def blocked(user, purpose="behaviour_analytics"):
    return selectors.subject_processing_blocked(subject=Subject(user_id=user.pk), uses=[purpose])


@pytest.mark.django_db
def test_restriction_is_applied_recipients_are_told_then_it_completes(
    user, django_capture_on_commit_callbacks
):
    request = restriction_in_progress(user)
    with pytest.raises(services.RequestError, match="Apply the restriction"):
        services.dsar_request_transition(request=request, to_state="completed", actor=None)
    assert not blocked(user)

    services.dsar_request_apply(request=request, actor=None)
    services.dsar_request_apply(request=request, actor=None)  # twice changes nothing
    assert blocked(user) and not blocked(user, purpose="newsletter")
    assert ProcessingBlock.objects.filter(request=request).count() == 1
    notifications = {n.recipient_key: n for n in request.recipient_notifications.all()}
    assert set(notifications) == {"crm", "mailer", "printer"}

    with pytest.raises(services.RequestError, match="recipients have not been told"):
        services.dsar_request_transition(request=request, to_state="completed", actor=None)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.recipient_notification_send(notification_id=notifications["crm"].pk)
        assert services.recipient_notification_send(notification_id=notifications["mailer"].pk)
    assert not services.recipient_notification_send(notification_id=notifications["crm"].pk)
    assert [{"recipient": "crm", "email": user.email, "ref": request.reference}] == adapters.TOLD
    provider_mail = next(m for m in mail.outbox if m.to == ["privacy@mailer.example"])
    assert user.email in provider_mail.body and request.reference in provider_mail.subject
    sent = RecipientNotification.objects.get(pk=notifications["crm"].pk)
    assert sent.state == "sent" and sent.subject_email == ""  # not kept once told

    services.recipient_notification_mark_done(notification=notifications["printer"], actor=None)
    services.dsar_request_transition(request=request, to_state="completed", actor=None)
    request.refresh_from_db()
    assert request.state == RequestState.COMPLETED


@pytest.mark.django_db
def test_lifting_is_announced_before_it_happens(user, django_capture_on_commit_callbacks):
    request = restriction_in_progress(user)
    services.dsar_request_apply(request=request, actor=None)
    block = ProcessingBlock.objects.get(request=request)
    with pytest.raises(services.RequestError, match="Say why"):
        services.processing_block_announce_lift(block=block, actor=None, reason="")
    with django_capture_on_commit_callbacks(execute=True):
        services.processing_block_announce_lift(
            block=block, actor=None, reason="We verified the data is accurate."
        )
    assert "We will lift the restriction" in mail.outbox[-1].subject
    assert "verified the data is accurate" in mail.outbox[-1].body
    assert blocked(user)  # told first: still restricted
    assert services.processing_blocks_lift_due() == 0
    assert services.processing_blocks_lift_due(now=timezone.now() + timedelta(days=8)) == 1
    assert not blocked(user)


@pytest.mark.django_db
def test_failed_adapter_is_recorded_and_retried_by_the_sweep(user, settings):
    settings.DSAR_SERVICE_PROVIDERS = [
        {"key": "flaky", "name": "Flaky partner", "adapter": "tests.dsar.adapters.FailingAdapter"}
    ]
    request = restriction_in_progress(user)
    services.dsar_request_apply(request=request, actor=None)
    notification = request.recipient_notifications.get()
    assert not services.recipient_notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.state == "failed" and notification.attempts == 1
    assert "partner API is down" in notification.last_error
    RecipientNotification.objects.filter(pk=notification.pk).update(
        created_at=timezone.now() - timedelta(hours=1)
    )
    assert services.recipient_notifications_sweep() == 1
    RecipientNotification.objects.filter(pk=notification.pk).update(attempts=10)
    assert services.recipient_notifications_sweep() == 0  # given up: officers see it in admin


@pytest.mark.django_db
def test_an_objection_an_officer_upholds_blocks_that_purpose(user):
    request, _ = services.dsar_request_file(
        kind=RequestKind.OBJECTION, user=user, purposes=["behaviour_analytics"]
    )
    request = services.dsar_request_transition(request=request, to_state="in_progress", actor=None)
    services.dsar_request_apply(request=request, actor=None)
    assert blocked(user, "behaviour_analytics")
    services.dsar_request_transition(request=request, to_state="completed", actor=None)


# --- Who and what a block stops (docs/mutation.md) ----------------------------------------------


def uses_of(purpose, direct_marketing=False):
    """What processing for `purpose` falls under (a direct-marketing purpose is marketing)."""
    return [purpose, DIRECT_MARKETING] if direct_marketing else [purpose]


def is_blocked(subject, purpose, direct_marketing=False):
    return selectors.subject_processing_blocked(
        subject=subject, uses=uses_of(purpose, direct_marketing)
    )


def bulk_blocked(purpose, direct_marketing=False):
    users = selectors.blocked_user_ids(uses=uses_of(purpose, direct_marketing))
    emails = selectors.blocked_emails(uses=uses_of(purpose, direct_marketing))
    return (
        set(users.values_list("user_id", flat=True)),
        set(emails.values_list("email_lower", flat=True)),
    )


@pytest.mark.django_db
def test_a_block_stops_exactly_the_purpose_it_names_for_the_person_it_names(user):
    other = UserFactory(username="other", email="other@example.org")
    me, them = Subject(user_id=user.pk), Subject(user_id=other.pk)
    services.processing_block_add(kind="restriction", subject=me, purpose="behaviour_analytics")
    assert is_blocked(me, "behaviour_analytics") is True
    assert is_blocked(me, "newsletter") is False
    assert is_blocked(me, "newsletter", direct_marketing=True) is False
    assert is_blocked(them, "behaviour_analytics") is False
    assert bulk_blocked("behaviour_analytics") == ({user.pk}, set())
    assert bulk_blocked("newsletter", direct_marketing=True) == (set(), set())


@pytest.mark.django_db
def test_a_block_of_every_purpose_stops_every_purpose(user):
    me = Subject(user_id=user.pk)
    services.processing_block_add(kind="restriction", subject=me, purpose="")
    for purpose, dm in (("behaviour_analytics", False), ("newsletter", True), ("events", True)):
        assert is_blocked(me, purpose, dm) is True
        assert bulk_blocked(purpose, dm) == ({user.pk}, set())


@pytest.mark.django_db
def test_an_objection_to_direct_marketing_stops_only_direct_marketing(user):
    me = Subject(user_id=user.pk)
    services.processing_block_add(kind="objection", subject=me, purpose="direct_marketing")
    assert is_blocked(me, "newsletter", direct_marketing=True) is True
    assert bulk_blocked("newsletter", direct_marketing=True) == ({user.pk}, set())
    assert is_blocked(me, "behaviour_analytics", direct_marketing=False) is False
    assert bulk_blocked("behaviour_analytics", direct_marketing=False) == (set(), set())


@pytest.mark.django_db
def test_a_block_by_address_is_found_by_the_address_in_any_case_and_not_by_account_ids():
    by_address = Subject(email="Pat.Person@Example.org")
    services.processing_block_add(kind="restriction", subject=by_address, purpose="")
    assert is_blocked(Subject(email="pat.person@example.org"), "newsletter", True) is True
    assert is_blocked(Subject(user_id=10**6, email="PAT.PERSON@example.org"), "events") is True
    assert is_blocked(Subject(email="someone@example.org"), "newsletter", True) is False
    assert bulk_blocked("newsletter", True) == (set(), {"pat.person@example.org"})


@pytest.mark.django_db
def test_a_lifted_block_stops_nothing(user):
    me = Subject(user_id=user.pk)
    block = services.processing_block_add(kind="restriction", subject=me, purpose="")
    ProcessingBlock.objects.filter(pk=block.pk).update(lifted_at=timezone.now())
    assert is_blocked(me, "behaviour_analytics") is False
    assert bulk_blocked("behaviour_analytics") == (set(), set())


@pytest.mark.django_db
def test_due_liftings_are_lifted_batch_after_batch_and_audited_once_each():
    now = timezone.now()
    due = [
        ProcessingBlock.objects.create(
            kind="restriction", email=f"person{n}@example.org", lift_at=now - timedelta(hours=1)
        ).pk
        for n in range(5)
    ]
    later = ProcessingBlock.objects.create(
        kind="restriction", email="later@example.org", lift_at=now + timedelta(days=1)
    )
    assert services.processing_blocks_lift_due(now=now, batch_size=2) == 5
    lifted = ProcessingBlock.objects.filter(lifted_at=now).values_list("pk", flat=True)
    assert sorted(lifted) == sorted(due)
    assert ProcessingBlock.objects.get(pk=later.pk).lifted_at is None
    assert AuditEvent.objects.filter(action="restriction_lifted").count() == 5
    assert services.processing_blocks_lift_due(now=now, batch_size=2) == 0
