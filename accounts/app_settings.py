"""The accounts app's settings, read in one place with their defaults."""

from django.conf import settings


def _get(name: str, default):
    return getattr(settings, f"ACCOUNTS_{name}", default)


class AppSettings:
    @property
    def MINIMUM_AGE(self) -> int:  # noqa: N802
        return _get("MINIMUM_AGE", 16)

    @property
    def SIGNUP_MIN_SECONDS(self) -> float:  # noqa: N802
        """The least time a sign-up answer takes, so that a known address (nothing created)
        answers no sooner than a new one (accounts.timing)."""
        return _get("SIGNUP_MIN_SECONDS", 0.6)

    @property
    def PHOTO_MAX_BYTES(self) -> int:  # noqa: N802
        return _get("PHOTO_MAX_BYTES", 5 * 1024 * 1024)

    @property
    def PHOTO_MAX_PIXELS(self) -> int:  # noqa: N802
        """The longest side a photo may have; larger photos are refused, not silently shrunk."""
        return _get("PHOTO_MAX_PIXELS", 4096)

    @property
    def PHOTO_STORED_PIXELS(self) -> int:  # noqa: N802
        """The longest side of the stored (re-encoded) photo."""
        return _get("PHOTO_STORED_PIXELS", 512)

    @property
    def CHILD_REMOVAL_STUCK_AFTER(self):  # noqa: N802
        """How long an under-16 removal may run before the sweep decides its worker died."""
        from datetime import timedelta

        return timedelta(seconds=_get("CHILD_REMOVAL_STUCK_AFTER_SECONDS", 900))

    @property
    def SESSION_IDLE_TIMEOUT(self):  # noqa: N802
        """A signed-in session without a request for this long ends (OWASP ASVS 3.3)."""
        from datetime import timedelta

        return timedelta(seconds=_get("SESSION_IDLE_TIMEOUT_SECONDS", 30 * 60))

    @property
    def SESSION_ABSOLUTE_TIMEOUT(self):  # noqa: N802
        """A signed-in session ends this long after the login, however busy it is."""
        from datetime import timedelta

        return timedelta(seconds=_get("SESSION_ABSOLUTE_TIMEOUT_SECONDS", 12 * 60 * 60))

    @property
    def PAYMENT_PROCESSOR(self) -> str:  # noqa: N802
        """Dotted path of the accounts.payments.PaymentProcessor adapter."""
        return _get("PAYMENT_PROCESSOR", "accounts.payments.TestModeProcessor")

    @property
    def INTEGRATION_ADAPTER(self) -> str:  # noqa: N802
        """Dotted path of the dsar.recipients.RecipientAdapter that hands portability packages
        to the integrations (GDPR Art. 20(2))."""
        return _get("INTEGRATION_ADAPTER", "accounts.integrations.TestModeIntegrationAdapter")

    @property
    def STAFF_ACCESS_MAX_MINUTES(self) -> int:  # noqa: N802
        """The longest need-to-know access window support staff may open."""
        return _get("STAFF_ACCESS_MAX_MINUTES", 240)


app_settings = AppSettings()
