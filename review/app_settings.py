"""The review app's settings, read in one place with their defaults."""

from django.conf import settings


def _get(name: str, default):
    return getattr(settings, f"REVIEW_{name}", default)


class AppSettings:
    @property
    def OPEN_DAYS(self) -> int:  # noqa: N802
        """How long a reported message or a scan waits for a reviewer before it is deleted."""
        return _get("OPEN_DAYS", 30)

    @property
    def RESULT_DAYS(self) -> int:  # noqa: N802
        """How long the outcome (and a scan's checked text) is kept for the owner."""
        return _get("RESULT_DAYS", 30)

    @property
    def SCAN_STORED_PIXELS(self) -> int:  # noqa: N802
        """The longest side of a stored scan: large enough to read, no larger."""
        return _get("SCAN_STORED_PIXELS", 2000)


app_settings = AppSettings()
