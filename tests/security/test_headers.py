"""Security headers on every kind of response: public pages, signed-in pages, the admin, JSON,
file downloads and error pages (OWASP ASVS 14.4)."""

import pytest
from django.test import Client

from tests.accounts.test_profile import photo_upload, profile_data
from tests.conftest import login_with_totp

EXPECTED_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def csp_directives(header: str) -> dict[str, str]:
    directives = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value.strip()
    return directives


def assert_security_headers(response):
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no CSP on {response.request['PATH_INFO']}"
    directives = csp_directives(header)
    for name, value in EXPECTED_CSP.items():
        assert directives.get(name) == value, (name, header)
    assert "unsafe-inline" not in header and "unsafe-eval" not in header
    policy = response.headers["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/privacy/requests/new/",
        "/preferences/",
        "/policy/",
        "/unsubscribe/not-a-token/",
        "/forms/contact/",
        "/admin/login/",
        "/healthz",
        "/.well-known/gpc.json",
        "/no-such-page/",
    ],
)
def test_public_responses_carry_the_security_headers(client, url):
    response = client.get(url)
    assert response.status_code < 500 or url == "/healthz"
    assert_security_headers(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/privacy/", "/accounts/profile/", "/preferences/", "/preferences/receipt.json"]
)
def test_signed_in_pages_carry_the_security_headers(user_client, url):
    response = user_client.get(url)
    assert response.status_code == 200
    assert_security_headers(response)


@pytest.mark.django_db
def test_a_refused_post_carries_the_security_headers(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/accounts/profile/", profile_data())
    assert response.status_code == 403
    assert_security_headers(response)


@pytest.mark.django_db
def test_uploaded_photo_download_carries_the_security_headers(user_client):
    user_client.post("/accounts/profile/", {**profile_data(), "photo": photo_upload()})
    response = user_client.get("/accounts/profile/photo/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert_security_headers(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    ["/admin/", "/admin/desk/", "/admin/desk/records-of-processing/?format=csv", "/admin/dsar/"],
)
def test_admin_pages_and_reports_carry_the_security_headers(client, make_staff, url):
    officer, secret = make_staff("Privacy officer")
    login_with_totp(client, officer, secret)
    response = client.get(url)
    assert response.status_code == 200, url
    assert_security_headers(response)


@pytest.mark.django_db
def test_social_widgets_are_allowed_only_once_accepted(client):
    refused = client.get("/")
    assert "platform.twitter.com" not in refused["Content-Security-Policy"]
    client.post("/cookies/", {"choice": "accept_all", "next": "/"})
    accepted = client.get("/")
    directives = csp_directives(accepted["Content-Security-Policy"])
    assert "https://platform.twitter.com" in directives["script-src"]
    assert "https://connect.facebook.net" in directives["script-src"]
    assert "https://www.facebook.com" in directives["frame-src"]
    assert "'unsafe-inline'" not in accepted["Content-Security-Policy"]
    # Other pages stay strict even with the widgets accepted.
    assert "twitter" not in client.get("/policy/")["Content-Security-Policy"]


def test_production_settings_turn_on_hsts_and_secure_cookies():
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
        "from django.conf import settings as s;"
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_SSL_REDIRECT,"
        " s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    )
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup();" + code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert int(out[0]) >= 31536000
    assert out[1:] == ["True", "True", "True", "True"]


@pytest.mark.django_db
def test_hsts_is_sent_over_https_with_the_production_values(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get("/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in client.get("/")  # never over plain HTTP
