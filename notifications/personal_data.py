"""What the notifications app holds about people: its entries in the personal-data registry."""

from datetime import timedelta

from dsar.registry import ErasureStrategy, Source, personal_data

from .app_settings import app_settings
from .models import Device, TestModePush

PUSH_CATEGORY = "Devices and push notifications"

personal_data(
    Device,
    activity="push_notifications",
    category=PUSH_CATEGORY,
    purpose=(
        "To send push notifications to the devices where you use our apps: security notices "
        "always, other messages only for the purposes and channels you switched on."
    ),
    source=Source.AUTOMATIC,
    retention=(
        "Until you remove the device or sign out in the app, or the push service tells us the "
        "token no longer works; erased with your account."
    ),
    recipients=(
        "Apple Push Notification service (Apple devices)",
        "Google Firebase Cloud Messaging (Android devices)",
        "Windows Push Notification Services (Windows devices)",
    ),
    export_fields=("platform", "name", "token", "registered_at", "last_seen_at"),
    erasure=ErasureStrategy.DELETE,
    user_field="user",
    erase_order=40,
)
personal_data(
    TestModePush,
    activity="push_test_mode",
    category=PUSH_CATEGORY,
    purpose="Test mode only: the push notifications the portal would have sent you.",
    source=Source.AUTOMATIC,
    retention=f"{app_settings.TEST_OUTBOX_RETENTION_DAYS} days.",
    recipients=(),
    export_fields=("platform", "purpose", "title", "body", "url", "created_at"),
    erasure=ErasureStrategy.DELETE,
    user_field="user",
    retention_field="created_at",
    retention_period=timedelta(days=app_settings.TEST_OUTBOX_RETENTION_DAYS),
    erase_order=30,  # before the devices they point at
)
