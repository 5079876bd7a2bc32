"""The load test and the throughput benchmark (`make loadtest`, bench `unsubscribe_load`): the
production settings, served over plain HTTP on loopback, with the rate limits raised.

What differs from production, and why:
- no TLS: loopback HTTP, so no HTTPS redirect, no HSTS, and cookies without `Secure` and the
  `__Host-` prefix (a client does not send Secure cookies over HTTP);
- every rate limit keeps its scope (per IP, per key, per user) but allows
  `LOADTEST_RATE_LIMIT` (default 10,000) per second: all the load comes from 127.0.0.1, so
  production's limits would answer 429 after a few requests and the test would measure the
  limiter instead of the app. The limiter itself still runs (and reads/writes the cache) on
  every limited request; a one-second window keeps its per-key history (allauth stores one
  timestamp per hit in the window) about as short as production's.

Everything else (PostgreSQL, Redis cache and broker, the password hashers, the manifest static
storage, DEBUG off, persistent connections) is production's.
"""

import re

from .base import env
from .production import *  # noqa: F403
from .production import ACCOUNT_RATE_LIMITS as _PRODUCTION_RATE_LIMITS
from .production import PORTAL_RATE_LIMITS as _PRODUCTION_PORTAL_LIMITS

SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LANGUAGE_COOKIE_SECURE = False
SESSION_COOKIE_NAME = "sessionid"
CSRF_COOKIE_NAME = "csrftoken"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"

# allauth's own defaults for the flows under load (it merges ACCOUNT_RATE_LIMITS over them).
_ALLAUTH_DEFAULTS = {"login": "30/m/ip", "confirm_email": "1/180s/key"}
_AMOUNT = env.int("LOADTEST_RATE_LIMIT", default=10_000)


def _raised(rules: dict[str, str]) -> dict[str, str]:
    return {
        action: re.sub(r"(^|,)\d+/\w+", rf"\g<1>{_AMOUNT}/1s", rule)
        for action, rule in rules.items()
        if rule
    }


ACCOUNT_RATE_LIMITS = _raised({**_ALLAUTH_DEFAULTS, **_PRODUCTION_RATE_LIMITS})
PORTAL_RATE_LIMITS = _raised(_PRODUCTION_PORTAL_LIMITS)
