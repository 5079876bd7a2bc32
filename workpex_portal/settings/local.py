"""The embedded default, with no servers: SQLite, a filesystem Celery broker, console mail."""

from .base import *  # noqa: F403
from .base import VAR_DIR, env, filesystem_broker_options, payment_token_dev_key

# `make run` is what a newcomer evaluates and may leave running: plain error pages, no list of
# URL patterns on a 404. `DJANGO_DEBUG=true make run` turns Django's debug pages on.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Static files are served by WhiteNoise straight from the source folders (no collectstatic), with
# or without DEBUG.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
SECRET_KEY = env("SECRET_KEY", default="local-only-insecure-key-never-used-in-production")
PAYMENT_TOKEN_KEYS = env.list("PAYMENT_TOKEN_KEYS", default=[payment_token_dev_key(SECRET_KEY)])
DATASTORES_CREDENTIAL_KEYS = env.list(
    "DATASTORES_CREDENTIAL_KEYS", default=[payment_token_dev_key("datastores:" + SECRET_KEY)]
)

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(
        env.path("CELERY_BROKER_FOLDER", default=VAR_DIR / "broker")
    )

# Links in mail point at the port `make run` serves on.
SITE_URL = env("SITE_URL", default=f"http://127.0.0.1:{env('PORTAL_PORT', default='8000')}")
