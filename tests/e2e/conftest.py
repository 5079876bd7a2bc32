"""Browser tests: real Chromium (Debian's package) driven by Playwright against a live server."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"

# Playwright's sync API runs an event loop in the test thread; the test's own ORM reads are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser():
    """One Chromium per test: Playwright's event loop must not outlive the test, or Django's
    database connection for the next transactional test is a fresh one without its data."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        message = (
            f"Chromium not found at {CHROMIUM}: install it with "
            "`apt-get update && apt-get install -y chromium` to run the browser tests."
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser, live_server):
    """open_page(locale) gives a page in a fresh browser context with that language."""
    contexts = []

    def open_(locale: str = "en-GB"):
        context = browser.new_context(base_url=live_server.url, locale=locale)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture(autouse=True)
def _site_url_is_the_live_server(settings, live_server):
    """Links in mail are built on SITE_URL: in a browser test, that is the live server."""
    settings.SITE_URL = live_server.url


@pytest.fixture
def page(open_page):
    return open_page("en-GB")


@pytest.fixture
def screenshot(page, request):
    """screenshot("step-name") saves a PNG per step under tests/e2e/screenshots/<test>/."""
    folder = SCREENSHOTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 1000))

    def take(step: str) -> Path:
        path = folder / f"{next(counter):02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture(scope="session", autouse=True)
def _migrated_contents(django_db_setup):
    """What the migrations made, read before Playwright starts its event loop."""
    from django.db import connection

    return getattr(connection, "_test_serialized_contents", None)


@pytest.fixture(autouse=True)
def _migrated_data(_migrated_contents, transactional_db):
    """Put the migrations' data back when Django's serialized rollback could not.

    Once Playwright's event loop runs in the test thread, Django's connection handler gives that
    context a connection object without the serialized contents, so from the second browser test
    on the tables hold only what post_migrate makes (no purposes, groups or schedules). Put the
    migrations' data back in that case.
    """
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection

    from tests.conftest import _reset_sequences

    if _migrated_contents and not Group.objects.exists():
        call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)
        connection.creation.deserialize_db_from_string(_migrated_contents)
        _reset_sequences(connection)


@pytest.fixture(scope="session")
def axe_source():
    """axe-core's script, installed from the lock file with `npm ci` when npm is there."""
    from tests.e2e.accessibility import axe_install

    return axe_install()


@pytest.fixture
def axe(page, axe_source):
    """axe.visit(url) / axe.check(label) audit pages; axe.assert_clean() lists every failure."""
    from tests.e2e.accessibility import AxeAudit

    return AxeAudit(page, axe_source)


def log_in(page, user, *, totp_secret: str | None = None, next_url: str = "/privacy/"):
    """Log in through allauth's pages, and pass the TOTP step when the person has a secret."""
    from tests.accounts.factories import PASSWORD
    from tests.conftest import totp_now

    page.goto(f"/accounts/login/?next={next_url}")
    page.locator("main input[name=login]").fill(user.username)
    page.locator("main input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    if totp_secret is not None:
        page.locator("input[name=code]").fill(totp_now(totp_secret))
        page.locator("main button[type=submit]").first.click()
    page.wait_for_url(f"**{next_url}")
