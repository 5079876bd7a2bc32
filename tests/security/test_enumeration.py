"""No account enumeration: sign-up, password reset, sign-in and the email-only privacy request
answer the same for an address (or name) we know and one we do not: the same status, the same
page (once the CSRF token and the typed address are set aside), the same number of mails, and
about the same time."""

import re
import time

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core import mail
from django.core.cache import cache
from django.test import Client

from dsar.ratelimits import limits_reset
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
PASSPHRASE = "a-long-and-unusual-passphrase"


class TimingHasher(PBKDF2PasswordHasher):
    """The production algorithm with fewer rounds (~0.1 s a hash here): a request that hashes a
    password takes clearly longer than one that does not, without making the suite slow."""

    algorithm = "pbkdf2_sha256_timing"
    iterations = 300_000


def page(response, *typed: str) -> str:
    """The page as a person sees it, with the CSRF token and what they typed taken out."""
    text = CSRF.sub("", response.content.decode())
    for value in typed:
        text = text.replace(value, "<typed>")
    return text


def answer(path: str, data: dict) -> tuple[int, str, str, int]:
    """Status, redirect target, the page shown (after the redirect) and the mails sent, for one
    post from a browser of its own."""
    client, sent = Client(), len(mail.outbox)
    response = client.post(path, data)
    location = response.get("Location", "")
    shown = client.get(location) if location else response
    return response.status_code, location, shown, len(mail.outbox) - sent


def same_answer(path: str, known: dict, unknown: dict, typed: tuple[str, str]) -> None:
    a, b = answer(path, known), answer(path, unknown)
    assert a[:2] == b[:2]
    assert a[3] == b[3], "mails sent"
    assert page(a[2], typed[0]) == page(b[2], typed[1])


def signup_data(email: str, username: str) -> dict:
    return {
        "full_name": "Pat Doe",
        "email": email,
        "company_name": "Acme",
        "country": "IE",
        "date_of_birth": "1990-01-01",
        "username": username,
        "password1": PASSPHRASE,
        "password2": PASSPHRASE,
    }


def test_signup_answers_the_same_for_a_known_address(client, user):
    same_answer(
        "/accounts/signup/",
        signup_data(user.email, "fresh1"),
        signup_data("nobody@example.com", "fresh2"),
        (user.email, "nobody@example.com"),
    )


def test_password_reset_answers_the_same_for_a_known_address(client, user):
    same_answer(
        "/accounts/password/reset/",
        {"email": user.email},
        {"email": "nobody@example.com"},
        (user.email, "nobody@example.com"),
    )


@pytest.mark.parametrize("by", ["username", "email"])
def test_login_answers_the_same_for_a_known_account(client, user, by):
    known = getattr(user, by)
    unknown = "nobody" if by == "username" else "nobody@example.com"
    same_answer(
        "/accounts/login/",
        {"login": known, "password": "not-the-password"},
        {"login": unknown, "password": "not-the-password"},
        (known, unknown),
    )


def test_email_only_request_answers_the_same_and_mails_both(
    client, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        same_answer(
            "/privacy/requests/new/",
            {"email": user.email, "kind": "access"},
            {"email": "nobody@example.com", "kind": "access"},
            (user.email, "nobody@example.com"),
        )
    assert {m.to[0] for m in mail.outbox} == {user.email, "nobody@example.com"}


# --- Timing ---------------------------------------------------------------------------------
# The fastest of a few alternating tries, compared with a generous ratio: a path that skips the
# password hash answers in well under half the time (the hash dominates), while noise on a busy
# machine only ever adds time, so the fastest try is the one least moved by it.

TRIES = 5
RATIO = 2.0


def best_times(known_request, unknown_request) -> tuple[float, float]:
    known_request(0), unknown_request(0)  # warm up templates and connections
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    for n in range(1, TRIES + 1):
        for name, send in (("known", known_request), ("unknown", unknown_request)):
            cache.clear()  # the limiters must not answer instead of the view
            limits_reset()
            start = time.perf_counter()
            send(n)
            times[name].append(time.perf_counter() - start)
    return min(times["known"]), min(times["unknown"])


def assert_similar(known: float, unknown: float) -> None:
    slower, faster = max(known, unknown), min(known, unknown)
    assert slower / faster < RATIO, f"known {known:.3f}s, unknown {unknown:.3f}s"


@pytest.fixture
def timed_user(settings):
    settings.PASSWORD_HASHERS = [f"{TimingHasher.__module__}.TimingHasher"]
    person = UserFactory()
    person.set_password(PASSPHRASE)
    person.save()
    return person


def test_signup_takes_as_long_for_a_known_address(client, timed_user):
    def post(email_of):
        return lambda n: client.post(
            "/accounts/signup/", signup_data(email_of(n), f"timing{id(email_of)}x{n}")
        )

    known, unknown = best_times(
        post(lambda n: timed_user.email), post(lambda n: f"new{n}@example.com")
    )
    assert_similar(known, unknown)


@pytest.mark.parametrize("by", ["username", "email"])
def test_login_takes_as_long_for_an_unknown_account(client, timed_user, by):
    def post(login):
        return lambda n: client.post("/accounts/login/", {"login": login, "password": "wrong"})

    unknown = "nobody-here" if by == "username" else "nobody-here@example.com"
    known, unknown = best_times(post(getattr(timed_user, by)), post(unknown))
    assert_similar(known, unknown)


def test_a_username_that_looks_like_an_email_still_signs_in(client):
    UserFactory(username="pat@home.example", email="pat@work.example")
    response = client.post("/accounts/login/", {"login": "pat@home.example", "password": PASSWORD})
    # Accepted (allauth goes on to confirm the email-looking login); a refusal re-shows the form.
    assert response.status_code == 302, response.content


def test_password_reset_takes_as_long_for_an_unknown_address(client, timed_user):
    def post(email):
        return lambda n: client.post("/accounts/password/reset/", {"email": email})

    known, unknown = best_times(post(timed_user.email), post("nobody@example.com"))
    assert_similar(known, unknown)


def test_email_only_request_takes_as_long_for_an_unknown_address(client, timed_user):
    kinds = ["access", "erasure", "portability", "objection", "restriction", "rectification"]

    def post(email):
        return lambda n: client.post("/privacy/requests/new/", {"email": email, "kind": kinds[n]})

    known, unknown = best_times(post(timed_user.email), post("nobody@example.com"))
    assert_similar(known, unknown)


def test_preferences_link_takes_as_long_for_an_unknown_address(client, timed_user):
    def post(email):
        return lambda n: client.post("/preferences/link/", {"email": email})

    known, unknown = best_times(post(timed_user.email), post("nobody@example.com"))
    assert_similar(known, unknown)


# --- Links in allauth's mails ------------------------------------------------------------------


def mailed_links() -> list[str]:
    return [link for m in mail.outbox for link in re.findall(r"https?://[^\s\"'<>]+", m.body)]


@pytest.mark.parametrize("host", ["localhost:6666", "127.0.0.1:6666"])
def test_allauth_mails_link_to_site_url_whatever_the_host_header(client, user, settings, host):
    settings.SITE_URL = "https://privacy.workpex.example"
    client.post("/accounts/password/reset/", {"email": user.email}, HTTP_HOST=host)
    client.post(
        "/accounts/signup/",
        signup_data("brand-new@example.com", "brandnewperson"),
        HTTP_HOST=host,
    )
    links = mailed_links()
    assert any("/accounts/password/reset/key/" in link for link in links), links
    assert any("/accounts/confirm-email/" in link for link in links), links
    assert all(link.startswith("https://privacy.workpex.example/") for link in links), links
