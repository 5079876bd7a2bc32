"""Cookies and sessions (OWASP ASVS 3.2-3.4): a new session key at login, a flushed session at
logout, idle and absolute timeouts, and cookie flags."""

import time

import pytest
from django.conf import settings
from django.test import Client

from accounts.middleware import SESSION_LOGIN_AT, SESSION_SEEN_AT
from tests.accounts.factories import PASSWORD


def login(client, user):
    response = client.post("/accounts/login/", {"login": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return response


@pytest.mark.django_db
def test_login_gives_a_new_session_key_and_logout_ends_the_session(client, user):
    client.get("/privacy/requests/new/")  # an anonymous session exists first
    session = client.session
    session["anything"] = "before login"
    session.save()
    before = client.cookies[settings.SESSION_COOKIE_NAME].value

    login(client, user)
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not Client(HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}={before}").session.get(
        "_auth_user_id"
    )
    assert client.get("/privacy/").status_code == 200

    client.post("/accounts/logout/")
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = after
    assert stale.get("/privacy/").status_code == 302  # the old key no longer signs anyone in


@pytest.mark.django_db
def test_session_and_csrf_cookies_have_safe_flags(client, user):
    client.get("/accounts/login/")
    csrf = client.cookies[settings.CSRF_COOKIE_NAME]
    assert csrf["httponly"] and csrf["samesite"] == "Lax"
    login(client, user)
    session = client.cookies[settings.SESSION_COOKIE_NAME]
    assert session["httponly"] and session["samesite"] == "Lax"
    assert int(session["max-age"] or settings.SESSION_COOKIE_AGE) <= 12 * 60 * 60
    response = client.post("/i18n/setlang/", {"language": "de", "next": "/"})
    language = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert language["httponly"] and language["samesite"] == "Lax"


def age_session(client, *, login_ago: int, seen_ago: int):
    session = client.session
    now = int(time.time())
    session[SESSION_LOGIN_AT] = now - login_ago
    session[SESSION_SEEN_AT] = now - seen_ago
    session.save()


@pytest.mark.django_db
def test_idle_session_ends(client, user, settings):
    settings.ACCOUNTS_SESSION_IDLE_TIMEOUT_SECONDS = 1800
    login(client, user)
    age_session(client, login_ago=1700, seen_ago=1700)
    assert client.get("/privacy/").status_code == 200  # still within the idle limit
    assert client.session[SESSION_SEEN_AT] >= int(time.time()) - 5  # the request counted

    age_session(client, login_ago=1900, seen_ago=1801)
    response = client.get("/privacy/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert "after a time without activity" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/privacy/").status_code == 302


@pytest.mark.django_db
def test_busy_session_ends_at_the_absolute_limit(client, user, settings):
    settings.ACCOUNTS_SESSION_ABSOLUTE_TIMEOUT_SECONDS = 3600
    login(client, user)
    age_session(client, login_ago=3500, seen_ago=10)
    assert client.get("/privacy/").status_code == 200
    age_session(client, login_ago=3601, seen_ago=10)
    response = client.get("/privacy/", follow=True)
    assert "reached its time limit" in response.content.decode()
    assert client.get("/privacy/").status_code == 302


@pytest.mark.django_db
def test_a_login_starts_the_clocks_and_anonymous_visits_are_untouched(client, user):
    client.get("/")
    assert SESSION_LOGIN_AT not in client.session
    login(client, user)
    assert abs(client.session[SESSION_LOGIN_AT] - time.time()) < 5


@pytest.mark.django_db
def test_staff_pass_two_factor_again_after_a_timeout(client, make_staff):
    from tests.conftest import login_with_totp

    officer, secret = make_staff("Privacy officer")
    login_with_totp(client, officer, secret)
    assert client.get("/admin/").status_code == 200
    age_session(client, login_ago=4000, seen_ago=4000)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert "_auth_user_id" not in client.session
    # Back in only through the password and the authenticator code again.
    response = client.post(
        "/accounts/login/?next=/admin/", {"login": officer.username, "password": PASSWORD}
    )
    assert response["Location"].startswith("/accounts/2fa/authenticate/")
    assert client.get("/admin/").status_code == 302


def test_production_cookies_are_secure_and_host_prefixed():
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "workpex_portal.settings.production",
        "SECRET_KEY": "x" * 60,
        "DATABASE_URL": "sqlite:///:memory:",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "STORAGE_BUCKET": "workpex-unused",
    }
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE,"
        " s.CSRF_COOKIE_SECURE, s.LANGUAGE_COOKIE_SECURE)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["__Host-sessionid", "__Host-csrftoken", "True", "True", "True"]
