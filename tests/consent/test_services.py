import hashlib
import hmac

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test import RequestFactory

from consent import selectors, services
from consent.app_settings import app_settings
from consent.models import ConsentEvent, Purpose
from dsar.models import AuditEvent
from dsar.registry import Subject
from tests.accounts.factories import UserFactory

from .conftest import grant, withdraw

pytestmark = pytest.mark.django_db


def test_ledger_rows_are_never_updated(user_subject):
    event = grant(user_subject, "newsletter")
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        ConsentEvent.objects.filter(pk=event.pk).update(action="withdrawn")
    # The database refuses too, whatever the code does.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE consent_consentevent SET action = 'withdrawn' WHERE id = %s", [event.pk]
        )
    assert ConsentEvent.objects.get(pk=event.pk).action == "granted"


def test_erasure_removes_ledger_rows(user, user_subject):
    from dsar.registry import entry_for

    grant(user_subject, "newsletter")
    withdraw(user_subject, "newsletter")
    rows = entry_for(ConsentEvent).rows_for(user_subject)
    assert rows.count() == 2
    rows.delete()
    assert not ConsentEvent.objects.exists()


def test_every_row_has_subject_purpose_method_policy_and_time(user_subject):
    event = grant(user_subject, "newsletter", method="signup")
    assert event.user_id == user_subject.user_id and event.email == ""
    assert event.policy_version.version == "1.0"
    assert event.at is not None and event.method == "signup"
    email_event = grant(Subject(email="Mixed@Case.example"), "events", method="form_submission")
    assert email_event.email == "mixed@case.example" and email_event.user_id is None


@pytest.mark.parametrize(
    ("purpose", "kwargs", "message"),
    [
        ("account_security", {}, "essential"),
        ("newsletter", {"partner": 1}, "partner by partner"),
        ("analytics_cookies", {}, "cookie settings"),
    ],
)
def test_nonsense_is_refused_and_nothing_is_stored(user_subject, purpose, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        services.consent_record(
            subject=user_subject, purpose=purpose, action="granted", method="signup", **kwargs
        )
    assert not ConsentEvent.objects.exists()


def test_inactive_purpose_cannot_be_granted_but_can_be_withdrawn(user_subject):
    grant(user_subject, "events")
    Purpose.objects.filter(code="events").update(is_active=False)
    with pytest.raises(ValidationError, match="no longer in use"):
        grant(user_subject, "events")
    withdraw(user_subject, "events")


def test_bad_action_or_method_is_refused(user_subject):
    with pytest.raises(ValidationError):
        services.consent_record(
            subject=user_subject, purpose="newsletter", action="maybe", method="signup"
        )
    with pytest.raises(ValidationError):
        services.consent_record(
            subject=user_subject, purpose="newsletter", action="granted", method="carrier_pigeon"
        )
    assert not ConsentEvent.objects.exists()


def test_ip_is_stored_only_as_a_keyed_hash(settings):
    settings.CONSENT_IP_HASH_KEY = "a-test-key"
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.7")
    digest = services.request_ip_hash(request)
    assert digest == hmac.new(b"a-test-key", b"203.0.113.7", hashlib.sha256).hexdigest()
    assert digest != hashlib.sha256(b"203.0.113.7").hexdigest()  # keyed, not a plain hash
    assert "203.0.113.7" not in digest


def test_x_forwarded_for_is_read_only_as_far_as_the_trusted_proxies(settings):
    # A client sent a forged first entry; the one proxy appended the address it saw.
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.66, 198.51.100.9"
    )
    assert services.request_ip(request) == "10.0.0.1"
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    assert services.request_ip(request) == "198.51.100.9"
    assert services.request_ip(RequestFactory().get("/", REMOTE_ADDR="not-an-ip")) == ""


def test_one_client_ip_policy_for_the_ledger_and_the_rate_limits(settings):
    """allauth's limiter and the ledger's IP hash read the client by the same setting."""
    from allauth.account.adapter import get_adapter

    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.66, 198.51.100.9"
    )
    assert get_adapter(request).get_client_ip(request) == services.request_ip(request)


def test_default_ip_key_comes_from_the_secret_key(settings):
    settings.CONSENT_IP_HASH_KEY = ""
    first = app_settings.IP_HASH_KEY
    settings.SECRET_KEY = "another-secret"
    assert first != app_settings.IP_HASH_KEY and len(first) == 32


def test_preferences_save_records_only_what_changed(user_subject, partners):
    grant(user_subject, "newsletter")
    events = services.consent_preferences_save(
        subject=user_subject,
        purposes={"newsletter": True, "events": True, "marketing": False},
        partners={partners[0].pk: True, partners[1].pk: False},
    )
    assert [(e.purpose.code, e.partner_id, e.action) for e in events] == [
        ("events", None, "granted"),
        ("partner_notifications", partners[0].pk, "granted"),
    ]
    again = services.consent_preferences_save(
        subject=user_subject, purposes={"newsletter": True, "events": True}, partners={}
    )
    assert again == []


def test_preferences_save_refuses_unknown_purposes(user_subject):
    with pytest.raises(ValidationError):
        services.consent_preferences_save(subject=user_subject, purposes={"nope": True})
    assert not ConsentEvent.objects.exists()


def test_opt_out_of_every_partner(user_subject, partners):
    for partner in partners:
        grant(user_subject, "partner_notifications", partner=partner)
    events = services.consent_partners_opt_out(subject=user_subject)
    assert len(events) == 1 and events[0].partner_id is None
    assert not any(
        selectors.can_contact(user_subject, "partner_notifications", partner=p) for p in partners
    )
    assert services.consent_partners_opt_out(subject=user_subject) == []


def test_unsubscribe_is_idempotent(user_subject):
    grant(user_subject, "newsletter")
    first = services.consent_unsubscribe(subject=user_subject, purpose="newsletter")
    second = services.consent_unsubscribe(subject=user_subject, purpose="newsletter")
    assert len(first) == 1 and first[0].method == "unsubscribe_link"
    assert second == []


def test_unsubscribe_from_everything_non_essential(user_subject, partners):
    for code in ("newsletter", "events", "marketing"):
        grant(user_subject, code)
    grant(user_subject, "partner_notifications", partner=partners[1])
    grant(user_subject, "testimonial")
    services.consent_unsubscribe(subject=user_subject, purpose="newsletter", everything=True)
    for code in ("newsletter", "events", "marketing", "product_updates"):
        assert not selectors.can_contact(user_subject, code)
    assert not selectors.can_contact(user_subject, "partner_notifications", partner=partners[1])
    assert selectors.can_contact(user_subject, "account_security")
    # Not mail: the testimonial consent is not touched by unsubscribing from mail.
    assert selectors.consent_is_granted(subject=user_subject, purpose="testimonial")


def test_officer_records_a_change_on_written_request(make_staff, user_subject):
    officer, _ = make_staff("Privacy officer")
    event = services.consent_record_on_request(
        subject=user_subject,
        purpose="newsletter",
        action="granted",
        reason="Letter of 3 November 2026, ref. WP-1182",
        staff=officer,
    )
    assert event.method == "admin_request" and event.recorded_by == officer
    assert event.reason.startswith("Letter")
    audit = AuditEvent.objects.get(action="consent_recorded_on_request")
    assert audit.subject_ref == user_subject.ref and audit.actor == officer
    assert audit.detail == {"purpose": "newsletter", "partner": None, "consent": "granted"}


def test_recording_on_request_needs_a_reason_and_the_permission(make_staff, user_subject):
    officer, _ = make_staff("Privacy officer")
    support, _ = make_staff("Support")
    with pytest.raises(ValidationError, match="written request"):
        services.consent_record_on_request(
            subject=user_subject, purpose="newsletter", action="granted", reason=" ", staff=officer
        )
    with pytest.raises(ValidationError, match="not allowed"):
        services.consent_record_on_request(
            subject=user_subject, purpose="newsletter", action="granted", reason="x", staff=support
        )
    assert not ConsentEvent.objects.exists()


def test_database_refuses_an_admin_request_without_reason(user):
    policy = selectors.policy_version_in_force()
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsentEvent.objects.create(
            user=user,
            purpose=Purpose.objects.get(code="newsletter"),
            action="granted",
            method="admin_request",
            policy_version=policy,
        )


def test_gpc_withdraws_partner_sharing(user_subject, partners):
    grant(user_subject, "partner_notifications", partner=partners[0])
    events = services.consent_gpc_apply(subject=user_subject)
    assert events[0].method == "gpc"
    assert not selectors.can_contact(user_subject, "partner_notifications", partner=partners[0])


def test_signup_consents_are_recorded_with_method_signup():
    user = UserFactory()
    services.consent_signup_record(user=user, purposes=["newsletter"], ip_hash="abc")
    event = ConsentEvent.objects.get()
    assert (event.user, event.purpose.code, event.method, event.ip_hash) == (
        user,
        "newsletter",
        "signup",
        "abc",
    )


def test_a_refused_ledger_row_leaves_the_callers_transaction_usable(user_subject):
    """consent_record checks before it writes and has no savepoint of its own: a refusal
    inside someone's transaction must not spoil it (the next row is written and kept)."""
    with transaction.atomic():
        with pytest.raises(ValidationError):
            services.consent_grant(
                subject=user_subject, purpose="account_security", method="preference_centre"
            )
        services.consent_grant(subject=user_subject, purpose="newsletter", method="signup")
    assert selectors.can_contact(user_subject, "newsletter")
    assert ConsentEvent.objects.count() == 1


def test_a_ledger_row_for_an_account_that_is_gone_is_refused_clearly(user_subject):
    with pytest.raises(ValidationError):
        services.consent_grant(
            subject=Subject(user_id=987654), purpose="newsletter", method="signup"
        )
    assert not ConsentEvent.objects.exists()
