"""Production shape: PostgreSQL, Redis, gunicorn, workers and one beat, all set by environment."""

from .base import *  # noqa: F403
from .base import database_from_env, env, object_storage

DEBUG = False
SECRET_KEY = env("SECRET_KEY")  # no default: a missing key fails at start
DATABASES = {"default": database_from_env()}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CACHES = {"default": env.cache("CACHE_URL", default=CELERY_BROKER_URL)}
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="smtp://localhost:25")
vars().update(EMAIL_CONFIG)

# Exports, photos and scans in a bucket every web and worker machine shares (docs/storage.md).
STORAGES = {
    "default": object_storage(),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
# The __Host- prefix: the browser keeps these cookies only if Secure, for "/" and with no Domain,
# so no other host under the same domain can set or overwrite them.
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"

# The portal's own rate limits count in Redis, shared by every web process and machine
# (dsar/ratelimits.py); allauth's count in the cache above.
PORTAL_RATE_LIMIT_STORAGE = env("RATE_LIMIT_STORAGE_URL", default=CELERY_BROKER_URL)
