"""Push providers: the adapter a real service (Apple Push Notification service, Firebase Cloud
Messaging, Windows Push Notification Services) implements, and the test-mode provider in the
repository. `NOTIFICATIONS_PUSH_PROVIDER` names the one in use. Only `notifications.push` calls a
provider: sending anywhere else would pass by the consent gate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils.module_loading import import_string

from .app_settings import app_settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PushNotification:
    """One notification for one device, already through the gate."""

    device_id: int
    user_id: int
    platform: str
    token: str
    purpose: str
    title: str
    body: str
    url: str = ""

    def __repr__(self) -> str:  # never the token, even in a traceback
        return f"PushNotification(device={self.device_id}, purpose={self.purpose!r})"


@dataclass(frozen=True)
class PushResult:
    delivered: int
    # Devices whose token the provider says no longer works (app removed, token replaced):
    # the push module deletes them, so a dead token is not kept.
    gone_device_ids: frozenset[int] = frozenset()


class PushProvider:
    """The adapter a real push service implements: hand over a batch, say which tokens are dead.
    Raise to signal a failure of the whole batch (the caller logs it)."""

    def send(self, notifications: list[PushNotification]) -> PushResult:
        raise NotImplementedError


class TestModeProvider(PushProvider):
    """No network: records each notification it would send as a `TestModePush` row (one INSERT
    per batch), for tests, demos and `make run` (admin › Test-mode push notifications).

    A token containing "unregistered" behaves like a token the real service no longer knows.
    """

    def send(self, notifications: list[PushNotification]) -> PushResult:
        from .models import TestModePush

        gone = frozenset(n.device_id for n in notifications if "unregistered" in n.token)
        rows = [
            TestModePush(
                device_id=n.device_id,
                user_id=n.user_id,
                platform=n.platform,
                purpose=n.purpose,
                title=n.title[:200],
                body=n.body,
                url=n.url[:500],
            )
            for n in notifications
            if n.device_id not in gone
        ]
        TestModePush.objects.bulk_create(rows)
        logger.info("test-mode push: %d notifications recorded", len(rows))
        return PushResult(delivered=len(rows), gone_device_ids=gone)


def push_provider() -> PushProvider:
    return import_string(app_settings.PUSH_PROVIDER)()
