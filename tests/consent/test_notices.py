"""The policy-notice fan-out, called in process: exactly one notice per person and version,
retries with backoff, permanent failures recorded, and the cost per batch (queries, memory)."""

import smtplib
import tracemalloc
from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from consent import mail as consent_mail
from consent import policies, services
from consent.models import PolicyNotice, PolicyVersion
from consent.tasks import policy_notices_send_task, policy_notices_sweep_task
from dsar.registry import Subject
from tests.accounts.factories import UserFactory
from tests.mail_backends import FlakyBackend


def publish_material(version="2.0") -> PolicyVersion:
    policy = services.policy_version_draft(
        version=version,
        text="# Policy\n\nNew text.",
        summary_of_changes="We now keep support tickets for two years.",
        is_material=True,
        effective_at=timezone.now() + timedelta(days=31),
    )
    return services.policy_version_publish(policy=policy)


def many_users(count: int) -> None:
    User.objects.bulk_create(
        [
            User(
                username=f"bulk{i}",
                email=f"bulk{i}@example.com",
                full_name=f"Bulk Person {i}",
                company_name="Bulk Ltd",
                country="IE",
                password="!",
            )
            for i in range(count)
        ],
        batch_size=1000,
    )


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.mail_backends.FlakyBackend"
    FlakyBackend.script = {}
    FlakyBackend.sent = []
    return FlakyBackend


@pytest.mark.django_db
def test_every_active_account_holder_gets_one_notice(mailoutbox):
    people = UserFactory.create_batch(5)
    policy = publish_material()
    claimed, more = policies.policy_notices_send(version_id=policy.pk, batch_size=2)
    assert (claimed, more) == (5, False)
    assert sorted(m.to[0] for m in mailoutbox) == sorted(p.email for p in people)
    notice = PolicyNotice.objects.get(user=people[0])
    message = next(m for m in mailoutbox if m.to == [people[0].email])
    assert notice.state == "sent" and notice.sent_at and notice.claim_token is None
    assert message.extra_headers["Message-ID"] == policies.notice_message_id(notice.pk)
    assert "List-Unsubscribe" not in message.extra_headers  # essential mail
    assert "changes on" in message.subject
    assert "We now keep support tickets for two years." in message.body
    assert "/policy/2.0/" in message.body
    # Again: nothing is due, nothing is sent.
    assert policies.policy_notices_send(version_id=policy.pk) == (0, False)
    assert policy_notices_send_task(policy.pk) == 0
    assert len(mailoutbox) == 5


@pytest.mark.django_db
def test_one_notice_per_person_and_version_is_a_database_rule(user):
    policy = publish_material()
    assert policies._notices_create(policy, timezone.now()) == 0  # a repeat adds nothing
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyNotice.objects.create(version=policy, user=user)
    assert PolicyNotice.objects.filter(version=policy, user=user).count() == 1


@pytest.mark.django_db
def test_notices_even_to_people_who_unsubscribed_from_everything(user, mailoutbox):
    services.consent_unsubscribe(
        subject=Subject(user_id=user.pk), purpose="newsletter", everything=True
    )
    policy = publish_material()
    policies.policy_notices_send(version_id=policy.pk)
    assert [m.to for m in mailoutbox] == [[user.email]]


@pytest.mark.django_db
def test_transient_failures_are_retried_with_backoff_then_sent(flaky):
    people = UserFactory.create_batch(3)
    flaky.script = {
        people[1].email: [smtplib.SMTPRecipientsRefused({people[1].email: (451, b"busy")})]
    }
    policy = publish_material()
    policies.policy_notices_send(version_id=policy.pk)
    retried = PolicyNotice.objects.get(user=people[1])
    assert retried.state == "pending" and retried.attempts == 1
    assert "busy" in retried.error
    assert retried.next_attempt_at > timezone.now() + timedelta(seconds=50)  # one minute
    assert sorted(m.to[0] for m in flaky.sent) == sorted([people[0].email, people[2].email])
    # Not due yet: nothing happens; the sweep wakes it once due.
    assert policies.policy_notices_send(version_id=policy.pk) == (0, False)
    PolicyNotice.objects.filter(pk=retried.pk).update(next_attempt_at=timezone.now())
    policies.policy_notices_send(version_id=policy.pk)
    retried.refresh_from_db()
    assert retried.state == "sent" and retried.attempts == 2 and retried.error == ""
    assert len(flaky.sent) == 3


def test_backoff_grows_and_is_capped():
    waited = timedelta(0)
    waits = []
    for _try in range(10):
        wait = policies.notice_backoff(waited)
        waits.append(int(wait.total_seconds() // 60))
        waited += wait
    assert waits == [1, 1, 2, 4, 8, 16, 32, 60, 60, 60]


@pytest.mark.django_db
def test_a_connection_failure_leaves_the_rest_of_the_batch_for_later(flaky):
    people = UserFactory.create_batch(3)
    ordered = sorted(people, key=lambda p: p.pk)
    flaky.script = {ordered[0].email: [smtplib.SMTPServerDisconnected("gone")]}
    policy = publish_material()
    policies.policy_notices_send_batch(policy=policy)
    states = dict(PolicyNotice.objects.values_list("user_id", "state"))
    assert set(states.values()) == {"pending"}  # none sent, all to be tried again
    assert flaky.sent == []
    # None was handed over, so none counts as an attempt; the backoff still applies.
    assert set(PolicyNotice.objects.values_list("attempts", flat=True)) == {0}
    assert all(n.first_tried_at for n in PolicyNotice.objects.all())
    assert "not tried" in PolicyNotice.objects.get(user=ordered[2]).error


@pytest.mark.django_db
def test_permanent_failures_are_recorded_and_not_retried(flaky, settings):
    people = UserFactory.create_batch(3)
    flaky.script = {
        people[0].email: [smtplib.SMTPRecipientsRefused({people[0].email: (550, b"no such user")})]
    }
    policy = publish_material()
    policies.policy_notices_send(version_id=policy.pk)
    failed = PolicyNotice.objects.get(user=people[0])
    assert failed.state == "failed" and "no such user" in failed.error
    # Transient failures end as failed too, once the retry window (72 hours) is over.
    flaky.script = {people[1].email: [smtplib.SMTPServerDisconnected("down")]}
    PolicyNotice.objects.filter(user=people[1]).update(
        state="pending", sent_at=None, first_tried_at=timezone.now() - timedelta(hours=72)
    )
    policies.policy_notices_send(version_id=policy.pk)
    assert PolicyNotice.objects.get(user=people[1]).state == "failed"
    progress = policies.policy_notice_progress(version_ids=[policy.pk])[policy.pk]
    assert progress["failed"] == 2 and progress["sent"] == 1


@pytest.mark.django_db
def test_an_account_closed_before_its_turn_is_skipped(mailoutbox):
    people = UserFactory.create_batch(2)
    policy = publish_material()
    User.objects.filter(pk=people[0].pk).update(is_active=False)
    policies.policy_notices_send(version_id=policy.pk)
    assert PolicyNotice.objects.get(user=people[0]).state == "skipped"
    assert [m.to for m in mailoutbox] == [[people[1].email]]


ANNOUNCEMENT = {"template": "consent/mail/announcement", "context": {"title": "Hi", "body": "News"}}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_batch_mail_refuses_to_run_inside_a_transaction(mailoutbox):
    user = UserFactory()
    items = [
        consent_mail.OutgoingMail(
            key=1,
            subject=Subject(user_id=user.pk),
            to=user.email,
        )
    ]
    with pytest.raises(RuntimeError, match="outside a transaction"), transaction.atomic():
        consent_mail.mail_send_batch_now(purpose="policy_changes", items=items, **ANNOUNCEMENT)
    assert mailoutbox == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_batch_mail_sends_only_to_the_gates_allowed_recipients(mailoutbox):
    user = UserFactory()
    items = [
        consent_mail.OutgoingMail(
            key=1,
            subject=Subject(user_id=user.pk),
            to=user.email,
        )
    ]
    [refused] = consent_mail.mail_send_batch_now(purpose="newsletter", items=items, **ANNOUNCEMENT)
    assert refused.outcome == "refused" and mailoutbox == []
    services.consent_grant(
        subject=Subject(user_id=user.pk), purpose="newsletter", method="preference_centre"
    )
    [sent] = consent_mail.mail_send_batch_now(purpose="newsletter", items=items, **ANNOUNCEMENT)
    assert sent.outcome == "sent" and len(mailoutbox) == 1
    assert mailoutbox[0].extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Consent for the account's address does not cover another address.
    other = [
        consent_mail.OutgoingMail(
            key=2,
            subject=Subject(user_id=user.pk),
            to="someone-else@example.com",
        )
    ]
    [refused] = consent_mail.mail_send_batch_now(purpose="newsletter", items=other, **ANNOUNCEMENT)
    assert refused.outcome == "refused"


@pytest.mark.django_db
def test_the_sweep_returns_stuck_batches_and_wakes_versions_with_due_notices(user):
    policy = publish_material()
    notice = PolicyNotice.objects.get(version=policy)
    PolicyNotice.objects.filter(pk=notice.pk).update(
        state="sending",
        claim_token="6f0c6d4e-1111-4b5e-9d7a-3f8c9a000001",
        claimed_at=timezone.now() - timedelta(hours=1),
    )
    woken = []
    original = policy_notices_send_task.delay
    policy_notices_send_task.delay = lambda version_id: woken.append(version_id)
    try:
        assert policy_notices_sweep_task() == {"stuck": 1, "woken": 1}
    finally:
        policy_notices_send_task.delay = original
    assert woken == [policy.pk]
    notice.refresh_from_db()
    assert notice.state == "pending" and notice.claim_token is None
    # A late worker's record with its old token changes nothing.
    policies._results_record(
        token="6f0c6d4e-1111-4b5e-9d7a-3f8c9a000001",
        results=[consent_mail.MailResult(notice.pk, consent_mail.SENT, answered=True)],
        first_tried={notice.pk: timezone.now()},
        skipped=[],
        write_until=timezone.now() + timedelta(minutes=10),
    )
    assert PolicyNotice.objects.get(pk=notice.pk).state == "pending"


@pytest.mark.django_db
def test_the_task_returns_quietly_for_a_missing_or_minor_version():
    assert policy_notices_send_task(987654) == 0
    assert policy_notices_send_task(PolicyVersion.objects.get(version="1.0").pk) == 0


# --- Cost: queries grow with batches, memory stays flat ------------------------------------------


def _send_all(policy, batch_size=100) -> int:
    with CaptureQueriesContext(connection) as queries:
        claimed, _more = policies.policy_notices_send(version_id=policy.pk, batch_size=batch_size)
    return claimed, len(queries)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # as a worker runs
def test_queries_grow_with_batches_not_people(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    many_users(100)
    small = publish_material("2.0")
    claimed_small, queries_small = _send_all(small)
    assert claimed_small == 100
    many_users_more = 1900
    User.objects.bulk_create(
        [
            User(username=f"more{i}", email=f"more{i}@example.com", full_name="M", country="IE")
            for i in range(many_users_more)
        ],
        batch_size=1000,
    )
    large = publish_material("3.0")
    claimed_large, queries_large = _send_all(large)
    assert claimed_large == 2000
    # 1 batch vs 20 batches: the difference is 19 times the cost of one batch, whatever the
    # number of people in it.
    per_batch = (queries_large - queries_small) / 19
    assert per_batch == int(per_batch) and per_batch <= 8, (queries_small, queries_large)
    assert queries_large < 2000 / 5


@pytest.mark.django_db
def test_memory_stays_flat(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"

    def peak_for(version, people):
        many = len(User.objects.filter(username__startswith="mem"))
        User.objects.bulk_create(
            [
                User(username=f"mem{i}", email=f"mem{i}@example.com", full_name="M", country="IE")
                for i in range(many, people)
            ],
            batch_size=1000,
        )
        policy = publish_material(version)
        tracemalloc.start()
        policies.policy_notices_send(version_id=policy.pk, batch_size=100)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return peak

    peak_100 = peak_for("2.0", 100)
    peak_2000 = peak_for("3.0", 2000)
    # Twenty times the people, about the same peak: only one batch is ever held.
    assert peak_2000 < peak_100 * 1.5 + 256 * 1024, (peak_100, peak_2000)


@pytest.mark.django_db
def test_a_soft_time_limit_hands_the_batch_back_at_once(flaky):
    """The task's soft time limit fires during the hand-over: the message is not recorded as
    failed, the batch goes back to pending (due now, not after NOTICE_STUCK_AFTER), and the task
    stops instead of claiming another batch."""
    people = UserFactory.create_batch(3)
    policy = publish_material()
    flaky.script = {people[1].email: [SoftTimeLimitExceeded()]}
    with pytest.raises(SoftTimeLimitExceeded):
        policies.policy_notices_send(version_id=policy.pk, batch_size=3)
    notices = PolicyNotice.objects.filter(version=policy)
    assert {n.state for n in notices} == {"pending"}
    assert all(n.claim_token is None and n.next_attempt_at <= timezone.now() for n in notices)
    # The next run sends them all; the one accepted before the limit again (same Message-ID).
    policies.policy_notices_send(version_id=policy.pk, batch_size=3)
    assert {n.state for n in notices.all()} == {"sent"}
