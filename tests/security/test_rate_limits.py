"""Rate limits on sign-in, sign-up, password reset (allauth's limiter, ACCOUNT_RATE_LIMITS) and
privacy requests (the portal's, dsar/ratelimits.py, PORTAL_RATE_LIMITS; the same notation): the
attempt past the limit is refused, and it changes nothing and sends nothing."""

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail

from accounts.models import User
from dsar.models import AuditEvent, DataSubjectRequest, RequestEvent
from dsar.ratelimits import rates_parse
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def rule(action: str) -> str:
    return {**settings.ACCOUNT_RATE_LIMITS, **settings.PORTAL_RATE_LIMITS}[action]


def configured(action: str, per: str) -> int:
    """How many attempts the configuration allows for `action`, counted `per` ip/key/user."""
    (rate,) = [r for r in rates_parse(rule(action)) if r.per == per]
    return rate.amount


def too_many_logins(response) -> bool:
    return "too many failed login attempts" in response.content.decode().lower()


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_limits_are_on_in_the_test_settings():
    assert settings.ACCOUNT_RATE_LIMITS, "the suite must run with the limiter on"
    for action in ("login_failed", "signup", "reset_password", "dsar_request", "dsar_request_ip"):
        assert rates_parse(rule(action)), action


def test_failed_logins_are_limited_per_account_and_then_even_the_right_password_is_refused(
    client, user, password
):
    allowed = configured("login_failed", "key")
    last_login = user.last_login
    for _ in range(allowed):
        response = client.post("/accounts/login/", {"login": user.username, "password": "wrong"})
        assert response.status_code == 200
        assert not too_many_logins(response)
    response = client.post("/accounts/login/", {"login": user.username, "password": password})
    assert response.status_code == 200
    assert too_many_logins(response)
    assert not signed_in(client)
    user.refresh_from_db()
    assert user.last_login == last_login
    # Another account from the same address is still served (the limit is per account too).
    other = UserFactory()
    response = client.post("/accounts/login/", {"login": other.username, "password": password})
    assert response.status_code == 302 and signed_in(client)


def test_failed_logins_are_limited_per_ip_across_accounts(client, settings, password):
    allowed = configured("login_failed", "ip")
    for n in range(allowed):
        client.post("/accounts/login/", {"login": f"guess{n}", "password": "wrong"})
    victim = UserFactory()
    response = client.post("/accounts/login/", {"login": victim.username, "password": password})
    assert too_many_logins(response)
    assert not signed_in(client)


def signup_data(n: int, **overrides) -> dict:
    return {
        "full_name": f"Person {n}",
        "email": f"new{n}@example.com",
        "company_name": "Acme",
        "country": "IE",
        "date_of_birth": "1990-01-01",
        "username": f"newperson{n}",
        "password1": "a-long-and-unusual-passphrase",
        "password2": "a-long-and-unusual-passphrase",
        **overrides,
    }


def test_signups_are_limited_per_ip_and_the_refused_one_stores_and_sends_nothing(client):
    allowed = configured("signup", "ip")
    for n in range(allowed):
        response = client.post("/accounts/signup/", signup_data(n))
        assert response.status_code == 302, n
        client.logout()
    users, addresses, sent = User.objects.count(), EmailAddress.objects.count(), len(mail.outbox)
    assert users == allowed and sent == allowed
    response = client.post("/accounts/signup/", signup_data(allowed))
    assert response.status_code == 429
    assert "Nothing was changed" in response.content.decode()
    assert not User.objects.filter(username=f"newperson{allowed}").exists()
    assert (User.objects.count(), EmailAddress.objects.count()) == (users, addresses)
    assert len(mail.outbox) == sent


def test_password_resets_are_limited_per_address_and_the_refused_one_sends_nothing(client, user):
    allowed = configured("reset_password", "key")
    for _ in range(allowed):
        response = client.post("/accounts/password/reset/", {"email": user.email})
        assert response.status_code == 302
    assert len(mail.outbox) == allowed
    response = client.post("/accounts/password/reset/", {"email": user.email.upper()})
    assert response.status_code == 429
    assert len(mail.outbox) == allowed
    # Another address is not held back by this one's limit.
    response = client.post("/accounts/password/reset/", {"email": "other@example.com"})
    assert response.status_code == 302


def _dsar_rows() -> tuple[int, int, int]:
    return (
        DataSubjectRequest.objects.count(),
        RequestEvent.objects.count(),
        AuditEvent.objects.count(),
    )


def test_privacy_requests_by_email_are_limited_per_address_and_kind(
    client, django_capture_on_commit_callbacks
):
    """Not per address alone: a person files each kind once without being refused. The same
    kind again (a new request, not a joined one) is what is counted."""
    allowed = configured("dsar_request", "key")
    for _ in range(allowed):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/privacy/requests/new/", {"email": "many@example.com", "kind": "access"}
            )
        assert response.status_code == 200 and "Check your email" in response.content.decode()
        DataSubjectRequest.objects.filter(state="awaiting_confirmation").update(state="lapsed")
    rows, sent = _dsar_rows(), len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/privacy/requests/new/", {"email": "MANY@example.com", "kind": "access"}
        )
    assert response.status_code == 429
    assert "many requests like this one in a short time" in response.content.decode()
    assert _dsar_rows() == rows and len(mail.outbox) == sent
    response = client.post(
        "/privacy/requests/new/", {"email": "many@example.com", "kind": "erasure"}
    )
    assert response.status_code == 200


def test_privacy_requests_by_a_signed_in_person_are_limited_per_account_and_kind(
    user_client, user, django_capture_on_commit_callbacks
):
    allowed = configured("dsar_request", "key")
    for _ in range(allowed):
        response = user_client.post("/privacy/requests/new/", {"kind": "access"})
        assert response.status_code == 302
        DataSubjectRequest.objects.filter(state="verified").update(state="completed")
    rows, sent = _dsar_rows(), len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post("/privacy/requests/new/", {"kind": "access"})
    assert response.status_code == 429
    assert _dsar_rows() == rows and len(mail.outbox) == sent


def test_privacy_requests_by_email_are_limited_per_ip_across_addresses(client, settings):
    allowed = configured("dsar_request_ip", "ip")
    for n in range(allowed):
        client.post("/privacy/requests/new/", {"email": f"a{n}@example.com", "kind": "access"})
    rows = _dsar_rows()
    response = client.post(
        "/privacy/requests/new/", {"email": "fresh@example.com", "kind": "access"}
    )
    assert response.status_code == 429
    assert _dsar_rows() == rows
