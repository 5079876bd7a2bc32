"""What the notifications app holds about people: its entries in the personal-data registry."""

from datetime import timedelta

from django.utils.translation import gettext_noop

from dsar.registry import ErasureStrategy, Source, personal_data

from .app_settings import app_settings
from .models import Device, TestModePush

PUSH_CATEGORY = gettext_noop("Devices and push notifications")

personal_data(
    Device,
    activity="push_notifications",
    category=PUSH_CATEGORY,
    source=Source.AUTOMATIC,
    export_fields=("platform", "name", "token", "registered_at", "last_seen_at"),
    erasure=ErasureStrategy.DELETE,
    user_field="user",
    erase_order=40,
)
personal_data(
    TestModePush,
    activity="push_test_mode",
    category=PUSH_CATEGORY,
    source=Source.AUTOMATIC,
    export_fields=("platform", "purpose", "title", "body", "url", "created_at"),
    erasure=ErasureStrategy.DELETE,
    user_field="user",
    retention_field="created_at",
    retention_period=timedelta(days=app_settings.TEST_OUTBOX_RETENTION_DAYS),
    erase_order=30,  # before the devices they point at
)
