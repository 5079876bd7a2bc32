"""The notifications app's settings, read in one place with their defaults."""

from django.conf import settings


def _get(name: str, default):
    return getattr(settings, f"NOTIFICATIONS_{name}", default)


class AppSettings:
    @property
    def PUSH_PROVIDER(self) -> str:  # noqa: N802
        """Dotted path of the notifications.providers.PushProvider adapter."""
        return _get("PUSH_PROVIDER", "notifications.providers.TestModeProvider")

    @property
    def PUSH_BATCH_SIZE(self) -> int:  # noqa: N802
        """Devices per batch when one notification goes to many people."""
        return _get("PUSH_BATCH_SIZE", 500)

    @property
    def MAX_DEVICES_PER_USER(self) -> int:  # noqa: N802
        """How many devices one account may register."""
        return _get("MAX_DEVICES_PER_USER", 20)

    @property
    def TEST_OUTBOX_RETENTION_DAYS(self) -> int:  # noqa: N802
        """How long the test-mode provider's record of what it would have sent is kept."""
        return _get("TEST_OUTBOX_RETENTION_DAYS", 30)


app_settings = AppSettings()
