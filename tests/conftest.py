import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group

from accounts.totp import totp_authenticator_add, totp_code, totp_secret_new

from .accounts.factories import PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parent.parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Tests with a worker or a browser need committed data that another process can see.

    A test marked `postgresql_only(reason=...)` pins a behaviour only PostgreSQL has (two
    transactions writing at the same moment, SKIP LOCKED): skipped on SQLite, with the reason.

    They run as transactional tests with serialized rollback, so each starts with what the
    migrations made (groups, schedules, site). Marked before pytest-django orders the items,
    so they run after every ordinary test.
    """
    from django.conf import settings

    on_sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
    for item in items:
        only_postgresql = item.get_closest_marker("postgresql_only")
        if on_sqlite and only_postgresql:
            reason = only_postgresql.kwargs.get("reason") or " ".join(only_postgresql.args)
            item.add_marker(pytest.mark.skip(reason=f"PostgreSQL only: {reason}"))
        if "tests/e2e/" in item.nodeid:
            item.add_marker(pytest.mark.browser)
        if item.get_closest_marker("worker") or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.django_db(transaction=True, serialized_rollback=True))


@pytest.fixture(scope="session", autouse=True)
def _restore_migrated_data(django_db_setup, django_db_blocker):
    """A transactional test empties the tables when it ends; put the migrations' data back so that
    a database kept for the next run (--reuse-db) still holds it."""
    yield
    from django.core.management import call_command
    from django.db import connections

    with django_db_blocker.unblock():
        for connection in connections.all():
            contents = getattr(connection, "_test_serialized_contents", None)
            if contents:
                call_command(
                    "flush",
                    database=connection.alias,
                    interactive=False,
                    verbosity=0,
                    inhibit_post_migrate=True,
                )
                connection.creation.deserialize_db_from_string(contents)
                _reset_sequences(connection)


def _reset_sequences(connection):
    """Rows put back with their ids leave PostgreSQL's sequences behind: move them on, or the next
    run's first insert into a table the migrations filled (policy versions, purposes) collides."""
    from django.apps import apps
    from django.core.management.color import no_style

    statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models())
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    """Each test gets its own media folder, an empty cache (rate limits live there) and no
    copy of the purposes from an earlier test (a transactional test recreates them)."""
    from django.core.cache import cache

    from consent.selectors import purposes_cached_clear
    from dsar.ratelimits import limits_reset

    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    limits_reset()
    purposes_cached_clear()
    yield
    # A request in another language leaves it active in this thread (LocaleMiddleware does not
    # reset it); the next test starts in the default language.
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def user_client(client, user):
    client.force_login(user)
    return client


def totp_now(secret: str) -> str:
    return totp_code(secret)


@pytest.fixture
def make_staff(db):
    """A staff member in a role, with TOTP set up; returns (user, totp_secret)."""

    def make(role: str = "Privacy officer", *, with_totp: bool = True):
        staff = UserFactory(is_staff=True)
        staff.groups.add(Group.objects.get(name=role))
        secret = None
        if with_totp:
            secret = totp_secret_new()
            totp_authenticator_add(staff, secret)
        return staff, secret

    return make


def login_with_totp(client, user, secret: str, next_url: str = "/admin/"):
    """Log in through allauth as a person would: password first, then the authenticator code."""
    response = client.post(
        f"/accounts/login/?next={next_url}", {"login": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302, response.content
    assert response["Location"].startswith("/accounts/2fa/authenticate/")
    return client.post("/accounts/2fa/authenticate/", {"code": totp_now(secret)})


@pytest.fixture
def support(client, make_staff):
    """A member of Support, signed in with two-factor on `client`."""
    staff, secret = make_staff("Support")
    staff.full_name = "Sam Support"
    staff.save()
    login_with_totp(client, staff, secret)
    return staff


@pytest.fixture
def officer_client(client, make_staff):
    """A client signed in, with two-factor, as a privacy officer (`client.officer`)."""
    officer, secret = make_staff("Privacy officer")
    login_with_totp(client, officer, secret)
    client.officer = officer
    return client


def _database_url(settings_dict: dict) -> str:
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or "postgres"
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{settings_dict['NAME']}"


def broker_reset() -> None:
    """Empty the test broker: queued messages, and the unacknowledged ones a killed worker left
    (Redis would hand those out again to the next worker). The test broker is the suite's own."""
    from django.conf import settings as django_settings

    url = django_settings.CELERY_BROKER_URL
    if url.startswith("redis://"):
        import redis

        redis.Redis.from_url(url).flushdb()
    else:
        from workpex_portal.celery import app

        app.control.purge()


@pytest.fixture
def worker_mail_dir(tmp_path):
    folder = tmp_path / "worker-mail"
    folder.mkdir()
    return folder


def read_mail_dir(folder: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(folder.glob("*")))


@pytest.fixture
def celery_worker_process(transactional_db, worker_mail_dir, settings):
    """A real Celery worker in its own process, on the test broker and the test database."""
    from django.conf import settings as django_settings
    from django.db import connection

    broker_reset()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "workpex_portal.settings.test",
        "DATABASE_URL": _database_url(connection.settings_dict),
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "TEST_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "TEST_EMAIL_FILE_PATH": str(worker_mail_dir),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workpex_portal",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-mingle",
            "--without-gossip",
            "--hostname=test-worker@%h",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(condition, *, timeout: float = 30.0, interval: float = 0.2):
    """Poll until condition() is truthy; fail the test with a clear message on time-out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} seconds")


@pytest.fixture
def authenticator_count():
    return lambda user: Authenticator.objects.filter(user=user).count()


@pytest.fixture
def celery_eager():
    """Tasks queued by the code under test run at once, in this process (the task's own code,
    no broker): for tests of a view that hands work to a worker. Tests of the jobs themselves
    use `celery_worker_process`."""
    from workpex_portal.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False
