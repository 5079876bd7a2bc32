"""The dsar app's settings, read in one place with their defaults."""

from django.conf import settings


def _get(name: str, default):
    return getattr(settings, f"DSAR_{name}", default)


class AppSettings:
    @property
    def CLOCK_PAUSES_UNTIL_VERIFIED(self) -> bool:  # noqa: N802
        """When True, the one-month deadline does not run while the identity is unconfirmed."""
        return _get("CLOCK_PAUSES_UNTIL_VERIFIED", False)

    @property
    def CONFIRMATION_DAYS(self) -> int:  # noqa: N802
        """Days an email-only request waits for its confirmation before it lapses."""
        return _get("CONFIRMATION_DAYS", 7)

    @property
    def ERASURE_GRACE_DAYS(self) -> int:  # noqa: N802
        return _get("ERASURE_GRACE_DAYS", 14)

    @property
    def ERASURE_RESUME_AFTER_SECONDS(self) -> int:  # noqa: N802
        """A running erasure not finished after this long is taken to have lost its worker, and
        is resumed by the next sweep."""
        return _get("ERASURE_RESUME_AFTER_SECONDS", 15 * 60)

    @property
    def ERASURE_TEST_KILL_AFTER(self) -> str:  # noqa: N802
        """Tests only (set by the test settings from the environment, never in production): the
        registry label after whose step the erasure engine SIGKILLs its own process, so that a
        test interrupts a real worker between two registry steps on any database."""
        return _get("ERASURE_TEST_KILL_AFTER", "")

    @property
    def REMINDER_DAYS(self) -> int:  # noqa: N802
        """The assignee is reminded this many days before the due date."""
        return _get("REMINDER_DAYS", 5)

    @property
    def EXPORT_KEEP_DAYS(self) -> int:  # noqa: N802
        """An export file is deleted this many days after it is ready."""
        return _get("EXPORT_KEEP_DAYS", 7)

    @property
    def TRANSFER_LINK_DAYS(self) -> int:  # noqa: N802
        """A third party's download link works once, for at most this many days."""
        return _get("TRANSFER_LINK_DAYS", 7)

    @property
    def WEBHOOK_SECRET_KEYS(self) -> list[str]:  # noqa: N802
        """Fernet keys that encrypt the endpoints' signing secrets, newest first; empty: one
        derived from SECRET_KEY."""
        return _get("WEBHOOK_SECRET_KEYS", [])

    @property
    def WEBHOOK_ALLOW_PRIVATE_URLS(self) -> bool:  # noqa: N802
        """Whether an endpoint may be on a loopback or private address (tests, a closed
        network); off, such a URL is refused (it would let admin reach internal services)."""
        return _get("WEBHOOK_ALLOW_PRIVATE_URLS", False)

    @property
    def WEBHOOK_TIMEOUT_SECONDS(self) -> float:  # noqa: N802
        return _get("WEBHOOK_TIMEOUT_SECONDS", 10)

    @property
    def WEBHOOK_MAX_ATTEMPTS(self) -> int:  # noqa: N802
        """Tries of one delivery before it fails for good (an officer may replay it)."""
        return _get("WEBHOOK_MAX_ATTEMPTS", 15)

    @property
    def WEBHOOK_BACKOFF_SECONDS(self) -> int:  # noqa: N802
        """The wait after the first failed try; it doubles after each next one…"""
        return _get("WEBHOOK_BACKOFF_SECONDS", 30)

    @property
    def WEBHOOK_BACKOFF_MAX_SECONDS(self) -> int:  # noqa: N802
        """…up to this."""
        return _get("WEBHOOK_BACKOFF_MAX_SECONDS", 6 * 3600)

    @property
    def MAX_EXTENSION_MONTHS(self) -> int:  # noqa: N802
        return 2


app_settings = AppSettings()
