"""Error pages (400, 403, 404, 500) say what happened in plain words, in the person's language,
and never show a stack trace, the exception or any data (DEBUG is off, as in production)."""

import pytest
from django.test import Client

from .error_urls import SECRET

PAGES = {
    400: ("We could not understand that request", "Wir haben diese Anfrage nicht verstanden"),
    403: ("Not allowed", "Nicht erlaubt"),
    404: ("Page not found", "Seite nicht gefunden"),
    500: ("Something went wrong", "Etwas ist schiefgelaufen"),
}


@pytest.fixture(autouse=True)
def _error_urls(settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.security.error_urls"


def assert_no_leak(body: str):
    for leak in (SECRET, "Traceback", "RuntimeError", "SuspiciousOperation", 'File "'):
        assert leak not in body, leak


@pytest.mark.django_db
@pytest.mark.parametrize("status", sorted(PAGES))
@pytest.mark.parametrize("language", ["en", "de"])
def test_error_page_in_plain_words(status, language):
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE=language)
    response = client.get(f"/test-errors/{status}/")
    assert response.status_code == status
    body = response.content.decode()
    english, german = PAGES[status]
    assert (german if language == "de" else english) in body
    assert f'lang="{language}"' in body
    assert_no_leak(body)
    assert response["Content-Security-Policy"]  # the headers are on error pages too


@pytest.mark.django_db
def test_error_pages_follow_the_signed_in_persons_language(user):
    user.language = "de"
    user.save()
    client = Client(raise_request_exception=False)
    client.force_login(user)
    for status in PAGES:
        body = client.get(f"/test-errors/{status}/").content.decode()
        assert PAGES[status][1] in body, status
        assert_no_leak(body)


@pytest.mark.django_db
def test_unknown_address_and_disallowed_host():
    client = Client(raise_request_exception=False)
    assert "Page not found" in client.get("/no/such/page/").content.decode()
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "We could not understand that request" in response.content.decode()
    assert "evil.example" not in response.content.decode()
