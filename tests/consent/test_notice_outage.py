"""Policy notices through long mail outages and lost database connections, over a real SMTP
server on loopback (`smtp_sink`): a try that never reached the mail server is not an attempt,
the tries back off to an hour and go on for 72 hours, an officer sends failed notices again in
bulk, and a worker that lost its database connection records what the server accepted, so
every notice arrives exactly once.

Time is moved forward the way the rows see it: every timestamp the fan-out reads (first try,
next try, claim) is moved back by the time that "passes", instead of sleeping for days."""

import smtplib
from datetime import timedelta
from email import message_from_bytes

import psycopg
import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from consent import mail as consent_mail
from consent import policies, selectors
from consent.models import PolicyNotice
from dsar.models import AuditEvent
from tests.accounts.factories import UserFactory
from tests.conftest import login_with_totp

from .test_notices import publish_material

NOTICES = "/admin/consent/policynotice/"


def time_passes(delta: timedelta) -> None:
    PolicyNotice.objects.update(
        first_tried_at=F("first_tried_at") - delta,
        next_attempt_at=F("next_attempt_at") - delta,
        claimed_at=F("claimed_at") - delta,
    )


def until_next_try() -> timedelta:
    """How long until every pending notice is due again (the batches of one round are recorded
    a few milliseconds apart)."""
    due = PolicyNotice.objects.filter(state="pending").order_by("-next_attempt_at").first()
    return max(due.next_attempt_at - timezone.now(), timedelta(0))


def ride_out_outage(policy, *, longer_than: timedelta) -> int:
    """Run the fan-out at every due moment while the sink is down; returns the rounds."""
    outage, rounds = timedelta(0), 0
    while outage < longer_than and PolicyNotice.objects.filter(state="pending").exists():
        policies.policy_notices_send(version_id=policy.pk, batch_size=2)
        rounds += 1
        if not PolicyNotice.objects.filter(state="pending").exists():
            break
        wait = until_next_try()
        time_passes(wait)
        outage += wait
    return rounds


def received_message_ids(sink) -> list[str]:
    return [message_from_bytes(content)["Message-ID"] for _f, _t, content in sink.received]


def assert_each_arrived_once(sink, policy) -> None:
    notices = PolicyNotice.objects.filter(version=policy)
    assert set(notices.values_list("state", flat=True)) == {"sent"}
    ids = received_message_ids(sink)
    assert sorted(ids) == sorted(policies.notice_message_id(n.pk) for n in notices)


@pytest.mark.django_db
def test_an_outage_of_three_days_less_an_hour_delays_every_notice_and_loses_none(smtp_sink):
    UserFactory.create_batch(5)
    policy = publish_material()
    smtp_sink.down()
    rounds = ride_out_outage(policy, longer_than=timedelta(hours=71))
    # Never handed over: not one attempt, not one failure, all still to be sent...
    notices = PolicyNotice.objects.filter(version=policy)
    assert set(notices.values_list("state", flat=True)) == {"pending"}
    assert set(notices.values_list("attempts", flat=True)) == {0}
    assert smtp_sink.received == []
    # ...and the tries backed off: about one an hour, not one a minute.
    assert 70 < rounds < 85
    assert until_next_try() <= timedelta(hours=1)
    notice = notices.first()
    status = selectors.policy_notice_status(notice)
    assert "tried again automatically" in status.text and "ConnectionRefusedError" in status.detail

    smtp_sink.up()
    time_passes(until_next_try())
    policies.policy_notices_send(version_id=policy.pk, batch_size=2)
    assert_each_arrived_once(smtp_sink, policy)
    assert set(notices.values_list("attempts", flat=True)) == {1}  # the one answered try
    assert User.objects.filter(is_active=True).count() == len(smtp_sink.received)


@pytest.mark.django_db
def test_past_72_hours_they_fail_in_plain_words_and_an_officer_sends_them_again(
    smtp_sink, officer_client
):
    UserFactory.create_batch(3)
    policy = publish_material()
    smtp_sink.down()
    ride_out_outage(policy, longer_than=timedelta(hours=80))
    notices = PolicyNotice.objects.filter(version=policy)
    assert set(notices.values_list("state", flat=True)) == {"failed"}
    first = notices.first()
    assert first.claimed_at - first.first_tried_at >= timedelta(hours=72)  # the last try at 72 h

    page = officer_client.get(f"{NOTICES}?state__exact=failed").content.decode()
    assert "during 72 hours of tries" in page
    assert "Send the selected failed notices again" in page
    # The exception is there, folded away under the plain words, never on its own.
    plain = page.index("during 72 hours of tries")
    summary = page.index("<summary>Technical detail", plain)
    assert plain < summary < page.index("ConnectionRefusedError", plain)
    detail = officer_client.get(f"{NOTICES}{first.pk}/change/").content.decode()
    assert "during 72 hours of tries" in detail
    assert detail.index("<details>") < detail.index("ConnectionRefusedError")
    assert "Traceback" not in page + detail

    smtp_sink.up()
    sent_before = User.objects.get(pk=first.user_id)
    PolicyNotice.objects.filter(user=sent_before).update(state="sent", sent_at=first.claimed_at)
    selected = [str(pk) for pk in notices.values_list("pk", flat=True)]
    response = officer_client.post(
        NOTICES, {"action": "retry_failed", "_selected_action": selected}, follow=True
    )
    assert "queued again" in response.content.decode()
    audit = AuditEvent.objects.get(action="policy_notices_retried")
    assert audit.actor == officer_client.officer
    assert audit.detail == {"version": policy.version, "notices": len(selected) - 1}
    assert notices.get(user=sent_before).state == "sent"  # only failed ones go back
    policies.policy_notices_send(version_id=policy.pk)
    received = received_message_ids(smtp_sink)
    assert len(received) == len(selected) - 1 == len(set(received))
    assert policies.notice_message_id(first.pk) not in received
    assert notices.filter(state="sent").count() == len(selected)


@pytest.mark.django_db
def test_support_staff_cannot_send_failed_notices_again(client, make_staff):
    staff, secret = make_staff("Support")
    login_with_totp(client, staff, secret)
    response = client.post(NOTICES, {"action": "retry_failed", "_selected_action": ["1"]})
    assert response.status_code in (302, 403)
    assert not AuditEvent.objects.filter(action="policy_notices_retried").exists()


@pytest.mark.parametrize(
    ("error", "outcome", "broken", "answered"),
    [
        (smtplib.SMTPRecipientsRefused({"a@x": (451, b"later")}), "transient", False, True),
        (smtplib.SMTPRecipientsRefused({"a@x": (550, b"no such")}), "permanent", False, True),
        (smtplib.SMTPRecipientsRefused({"a@x": (421, b"closing")}), "transient", True, False),
        (smtplib.SMTPDataError(452, b"full"), "transient", False, True),
        (smtplib.SMTPDataError(421, b"closing"), "transient", True, False),
        (smtplib.SMTPSenderRefused(553, b"no", "f@x"), "permanent", False, True),
        (smtplib.SMTPConnectError(554, b"go away"), "transient", True, False),
        (smtplib.SMTPAuthenticationError(535, b"bad login"), "transient", True, False),
        (smtplib.SMTPServerDisconnected("gone"), "transient", True, False),
        (ConnectionRefusedError(111, "refused"), "transient", True, False),
        (TimeoutError("timed out"), "transient", True, False),
        (ValueError("bad template"), "permanent", False, True),
    ],
)
def test_an_attempt_is_counted_only_when_the_server_answered_about_the_message(
    error, outcome, broken, answered
):
    assert consent_mail._failure(error) == (outcome, broken, answered)


# --- The worker's database connection lost mid-batch -------------------------------------------


def _terminate(pid: int) -> None:
    """Kill the worker's database session from outside, as a failover or a restart would."""
    params = connection.get_connection_params()
    with psycopg.connect(
        host=params.get("host"),
        port=params.get("port"),
        user=params.get("user"),
        password=params.get("password", ""),
        dbname=settings.DATABASES["default"]["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def _lose_connection_in_the_sink(sink):
    """At the sink's second message, the worker's session is killed (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    sink.on_data = lambda number: _terminate(pid) if number == 2 else None


def _lose_connection_on_write(sink):
    """The first writes of the outcomes meet a dead connection (any database)."""
    lost = {"left": 2}

    def wrapper(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("UPDATE") and lost["left"] and sink.received:
            lost["left"] -= 1
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    return connection.execute_wrapper(wrapper)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(
    "how",
    [
        pytest.param(
            "session_killed",
            marks=pytest.mark.postgresql_only(reason="a session killed from outside"),
        ),
        "writes_fail",
    ],
)
def test_a_lost_database_connection_mid_batch_repeats_no_accepted_notice(smtp_sink, how):
    UserFactory.create_batch(4)
    policy = publish_material()
    if how == "session_killed":
        _lose_connection_in_the_sink(smtp_sink)
        policies.policy_notices_send(version_id=policy.pk)
    else:
        with _lose_connection_on_write(smtp_sink):
            policies.policy_notices_send(version_id=policy.pk)
    # The outcomes were written once the connection was back: nothing left `sending`...
    assert not PolicyNotice.objects.filter(state="sending").exists()
    assert_each_arrived_once(smtp_sink, policy)
    # ...so neither the sweep nor a later run sends anything again.
    later = timezone.now() + timedelta(hours=1)
    assert policies.policy_notices_sweep(now=later)["stuck"] == 0
    policies.policy_notices_send(version_id=policy.pk)
    assert len(smtp_sink.received) == PolicyNotice.objects.filter(version=policy).count()


@pytest.mark.django_db  # the test runs inside a transaction
def test_a_caller_transaction_is_not_reopened(monkeypatch):
    """Inside someone's transaction a lost connection cannot be reopened: the error is raised."""
    calls = []

    def failing(**kwargs):
        calls.append(kwargs)
        raise OperationalError("gone")

    monkeypatch.setattr(policies, "_results_write", failing)
    with pytest.raises(OperationalError):
        policies._results_record(
            token=None,
            results=[],
            first_tried={},
            skipped=[],
            write_until=timezone.now() + timedelta(minutes=10),
        )
    assert len(calls) == 1


def test_a_retry_window_under_three_days_fails_at_start(settings):
    from consent.checks import check_notices_retry_for_three_days

    assert check_notices_retry_for_three_days() == []
    settings.CONSENT_NOTICE_RETRY_FOR_HOURS = 48
    assert [e.id for e in check_notices_retry_for_three_days()] == ["consent.E003"]
