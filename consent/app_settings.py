"""The consent app's settings, read in one place with their defaults."""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.utils.crypto import salted_hmac


def _get(name: str, default):
    return getattr(settings, f"CONSENT_{name}", default)


class AppSettings:
    @property
    def SITE_URL(self) -> str:  # noqa: N802
        """Absolute address of the portal, for links in mail (the project's SITE_URL)."""
        return settings.SITE_URL.rstrip("/")

    @property
    def CONTROLLER(self) -> dict:  # noqa: N802
        """Who is responsible for the data (the controller), as receipts and records name it:
        name, contact, email, phone, postal address and the entity's identifier (a URL)."""
        return settings.PRIVACY_CONTROLLER

    @property
    def RECEIPT_SIGNING_KEY(self) -> str:  # noqa: N802
        """PEM of the EC P-256 private key that signs consent receipts; empty derives one from
        SECRET_KEY (the embedded default; consent/receipt_signing.py)."""
        return _get("RECEIPT_SIGNING_KEY", "")

    @property
    def RECEIPT_RETIRED_PUBLIC_KEYS(self) -> list[str]:  # noqa: N802
        """PEMs of public keys that signed receipts before, still published for old receipts."""
        return list(_get("RECEIPT_RETIRED_PUBLIC_KEYS", []))

    @property
    def RECEIPT_STORAGE_LOCATIONS(self) -> list[str]:  # noqa: N802
        """Where the consent records are stored (ISO 3166 codes, or EU), as receipts say."""
        return list(_get("RECEIPT_STORAGE_LOCATIONS", ["EU"]))

    @property
    def RECEIPT_JURISDICTION(self) -> str:  # noqa: N802
        return _get("RECEIPT_JURISDICTION", "EU")

    @property
    def IP_HASH_KEY(self) -> bytes:  # noqa: N802
        """Key of the HMAC that pseudonymises IP addresses in the ledger."""
        key = _get("IP_HASH_KEY", "")
        if key:
            return key.encode() if isinstance(key, str) else key
        derived = salted_hmac("consent.ip-hash-key", "ip-hash", algorithm="sha256")
        return hashlib.sha256(derived.digest()).digest()

    @property
    def UNSUBSCRIBE_TOKEN_MAX_AGE(self) -> timedelta:  # noqa: N802
        return timedelta(days=_get("UNSUBSCRIBE_TOKEN_MAX_AGE_DAYS", 365))

    @property
    def PREFERENCES_LINK_MAX_AGE(self) -> timedelta:  # noqa: N802
        """How long the preference-centre link mailed to an email-only person works."""
        return timedelta(hours=_get("PREFERENCES_LINK_MAX_AGE_HOURS", 48))

    @property
    def CONFIRMATION_MAX_AGE(self) -> timedelta:  # noqa: N802
        """How long a double opt-in confirmation link works."""
        return timedelta(days=_get("CONFIRMATION_MAX_AGE_DAYS", 7))

    @property
    def COOKIE_NAME(self) -> str:  # noqa: N802
        return _get("COOKIE_NAME", "wpx_cookie_choices")

    @property
    def COOKIE_MAX_AGE(self) -> timedelta:  # noqa: N802
        """How long cookie choices are remembered before the banner asks again."""
        return timedelta(days=_get("COOKIE_MAX_AGE_DAYS", 180))

    @property
    def SOCIAL_WIDGET_SCRIPTS(self) -> list[str]:  # noqa: N802
        """The providers' widget scripts loaded once social widgets are accepted."""
        return _get(
            "SOCIAL_WIDGET_SCRIPTS",
            [
                "https://platform.twitter.com/widgets.js",
                "https://connect.facebook.net/en_US/sdk.js",
            ],
        )

    @property
    def SOCIAL_WIDGET_CSP(self) -> dict[str, list[str]]:  # noqa: N802
        """What the Content-Security-Policy adds, on the one page with social widgets and only once
        they are accepted: the widget scripts' origins, and the frames the widgets open."""
        from urllib.parse import urlsplit

        script_origins = sorted(
            {
                f"{parts.scheme}://{parts.netloc}"
                for parts in map(urlsplit, self.SOCIAL_WIDGET_SCRIPTS)
                if parts.netloc
            }
        )
        return _get(
            "SOCIAL_WIDGET_CSP",
            {
                "script-src": script_origins,
                "frame-src": ["https://platform.twitter.com", "https://www.facebook.com"],
                "img-src": ["https://syndication.twitter.com", "https://www.facebook.com"],
                "connect-src": script_origins,
            },
        )

    @property
    def FORM_RETENTION_DAYS(self) -> dict[str, int]:  # noqa: N802
        """How long each kind of form submission is kept, in days."""
        defaults = {
            "event_registration": 365,
            "newsletter_signup": 730,
            "material_download": 365,
            "contest_entry": 180,
            "survey_response": 365,
            "support_request": 730,
            "quote_request": 730,
            "contact_request": 365,
        }
        return {**defaults, **_get("FORM_RETENTION_DAYS", {})}

    @property
    def NOTICE_BATCH_SIZE(self) -> int:  # noqa: N802
        """Policy notices claimed and sent per batch (one connection, constant queries)."""
        return _get("NOTICE_BATCH_SIZE", 100)

    @property
    def NOTICE_BATCHES_PER_TASK(self) -> int:  # noqa: N802
        """Batches one fan-out message works before it hands over to a fresh message."""
        return _get("NOTICE_BATCHES_PER_TASK", 20)

    @property
    def NOTICE_BATCH_SECONDS(self) -> int:  # noqa: N802
        """Time a batch may spend handing over mail; what is left is retried at once."""
        return _get("NOTICE_BATCH_SECONDS", 120)

    @property
    def NOTICE_RETRY_FOR(self) -> timedelta:  # noqa: N802
        """How long after its first try a notice with transient failures (the mail server down,
        unreachable or saying "later") keeps being retried before it is recorded as failed."""
        return timedelta(hours=_get("NOTICE_RETRY_FOR_HOURS", 72))

    @property
    def NOTICE_BACKOFF_MAX(self) -> timedelta:  # noqa: N802
        """The longest wait between two tries of one notice."""
        return timedelta(seconds=_get("NOTICE_BACKOFF_MAX_SECONDS", 3600))

    @property
    def NOTICE_STUCK_AFTER(self) -> timedelta:  # noqa: N802
        """How long a claimed batch may stay `sending` before the sweep hands it out again (its
        worker died). Longer than NOTICE_BATCH_SECONDS plus one mail-server time-out."""
        return timedelta(seconds=_get("NOTICE_STUCK_AFTER_SECONDS", 600))

    @property
    def MESSAGE_ID_DOMAIN(self) -> str:  # noqa: N802
        """The right-hand side of our Message-IDs: the sender's domain."""
        from email.utils import parseaddr

        address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
        return address.rpartition("@")[2] or "workpex.example"


app_settings = AppSettings()
