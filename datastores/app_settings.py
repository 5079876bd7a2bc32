"""The datastores app's settings, read in one place."""

import hashlib

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def credential_keys() -> list[str]:
    """MultiFernet keys of the stored connection URLs, newest first (DATASTORES_CREDENTIAL_KEYS)."""
    keys = list(getattr(settings, "DATASTORES_CREDENTIAL_KEYS", []))
    if not keys:
        raise ImproperlyConfigured("DATASTORES_CREDENTIAL_KEYS is empty: connections need a key.")
    return keys


def hmac_key() -> bytes:
    """The `hmac` masking strategy's key (DATASTORES_HMAC_KEY, else derived from SECRET_KEY)."""
    key = getattr(settings, "DATASTORES_HMAC_KEY", "")
    if key:
        return key.encode()
    return hashlib.sha256(b"workpex-datastores-hmac:" + settings.SECRET_KEY.encode()).digest()


MAX_ATTEMPTS = 8
RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 6 * 3600
# A running part whose worker has not finished it by then is handed out again.
STUCK_AFTER_SECONDS = 15 * 60


def test_kill_after() -> str:
    """Test settings only: SIGKILL the worker after this collection's step committed."""
    return getattr(settings, "DATASTORES_TEST_KILL_AFTER", "")
