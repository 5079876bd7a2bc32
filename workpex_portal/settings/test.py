"""Test settings: PostgreSQL and Redis by default; DATABASE_URL / CELERY_BROKER_URL choose others
(`make test-sqlite` runs the suite on the embedded default: SQLite and the filesystem broker)."""

from .base import *  # noqa: F403
from .base import (
    VAR_DIR,
    env,
    filesystem_broker_options,
    object_storage,
    payment_token_dev_key,
)

SECRET_KEY = "test-only-secret-key"  # noqa: S105
PAYMENT_TOKEN_KEYS = env.list("PAYMENT_TOKEN_KEYS", default=[payment_token_dev_key(SECRET_KEY)])
DATASTORES_CREDENTIAL_KEYS = env.list(
    "DATASTORES_CREDENTIAL_KEYS", default=[payment_token_dev_key("datastores:" + SECRET_KEY)]
)
DEBUG = False
DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/workpex")
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
# TEST_DATABASE_NAME lets two suites run side by side on one server.
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default=None)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that a worker process started by a test sees the same database;
    # TEST_SQLITE_NAME lets two SQLite suites of one checkout run side by side.
    DATABASES["default"]["TEST"] = {
        "NAME": str(VAR_DIR / env("TEST_SQLITE_NAME", default="test-embedded-db.sqlite3"))
    }
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/15")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(
        env.path("CELERY_BROKER_FOLDER", default=VAR_DIR / "test-broker")
    )

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Above a test sign-up's time even on a busy CI machine, low enough to keep the suite quick.
ACCOUNTS_SIGNUP_MIN_SECONDS = env.float("ACCOUNTS_SIGNUP_MIN_SECONDS", default=0.35)
# Worker processes started by tests write mail to files the test can read.
EMAIL_BACKEND = env("TEST_EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
EMAIL_FILE_PATH = env("TEST_EMAIL_FILE_PATH", default=str(VAR_DIR / "test-mail"))
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "test-media")
# The local disk, unless STORAGE_BUCKET names a bucket (the storage tests' own processes, on the
# S3-compatible server the suite starts: tests/storage/).
if env("STORAGE_BUCKET", default=""):
    STORAGES = {**STORAGES, "default": object_storage()}  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
WHITENOISE_AUTOREFRESH = True
# The erasure tests interrupt real workers between registry steps (dsar.app_settings).
DSAR_ERASURE_TEST_KILL_AFTER = env("DSAR_ERASURE_TEST_KILL_AFTER", default="")
DATASTORES_TEST_KILL_AFTER = env("DATASTORES_TEST_KILL_AFTER", default="")
DSAR_ERASURE_RESUME_AFTER_SECONDS = env.int("DSAR_ERASURE_RESUME_AFTER_SECONDS", default=15 * 60)
# The webhook tests start their receivers on 127.0.0.1 (the guard itself is tested with it off).
DSAR_WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=True)
DSAR_WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=3)
