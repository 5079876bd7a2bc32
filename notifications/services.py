"""Every write about devices: registering one (from an app), removing one (from the portal) and
signing out of one (from the app). Removing or signing out deletes the row, and so the token."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dsar.registry import Subject

from .app_settings import app_settings
from .models import Device, Platform

# What each platform's push service hands an app: APNs a hex string (32 bytes today), FCM a
# registration token of URL-safe characters and colons, WNS an https channel URI of its own.
_APPLE = re.compile(r"[0-9a-f]{64,200}")
_GOOGLE = re.compile(r"[A-Za-z0-9_\-:]{64,1024}")
_WNS_HOST = ".notify.windows.com"


def device_token_clean(*, platform: str, token: str) -> str:
    """The token in its stored form, or a ValidationError saying what is wrong with it."""
    token = (token or "").strip()
    if platform not in Platform.values:
        raise ValidationError(_("Unknown platform: choose Apple, Google or Windows."))
    if platform == Platform.APPLE:
        token = token.lower()
        if not _APPLE.fullmatch(token):
            raise ValidationError(_("This is not an Apple device token."))
    elif platform == Platform.GOOGLE:
        if not _GOOGLE.fullmatch(token):
            raise ValidationError(_("This is not a Google (Firebase) registration token."))
    else:
        parts = urlsplit(token)
        host = (parts.hostname or "").lower()
        if (
            len(token) > 1024
            or parts.scheme != "https"
            or not host.endswith(_WNS_HOST)
            or any(c.isspace() for c in token)
        ):
            raise ValidationError(_("This is not a Windows notification channel address."))
    return token


def device_register(*, user, platform: str, token: str, name: str = "") -> tuple[Device, bool]:
    """Register the device an app runs on for `user`; (device, created).

    Idempotent: the same token again updates its row, and moves it to `user` when someone else
    had signed in on that device before (their token is theirs no more). A new device sends the
    person's other devices a security notice (essential: it always goes out)."""
    token = device_token_clean(platform=platform, token=token)
    name = " ".join((name or "").split())[:100]
    try:
        with transaction.atomic():
            device, created = _device_upsert(user=user, platform=platform, token=token, name=name)
    except IntegrityError:  # another request registered the same token at the same moment
        with transaction.atomic():
            device, created = _device_upsert(user=user, platform=platform, token=token, name=name)
    if created:
        from .push import push_send

        push_send(
            subject=Subject(user_id=user.pk),
            purpose="account_security",
            template="notifications/push/device_added",
            context={"device": device.name or device.get_platform_display()},
            exclude_device_ids={device.pk},
        )
    return device, created


def _device_upsert(*, user, platform: str, token: str, name: str) -> tuple[Device, bool]:
    now = timezone.now()
    device = Device.objects.select_for_update().filter(platform=platform, token=token).first()
    if device is None:
        if Device.objects.filter(user=user).count() >= app_settings.MAX_DEVICES_PER_USER:
            raise ValidationError(
                _("You have registered %(n)d devices, the most we allow. Remove one first.")
                % {"n": app_settings.MAX_DEVICES_PER_USER}
            )
        device = Device(user=user, platform=platform, token=token, name=name, registered_at=now)
        device.last_seen_at = now
        device.full_clean()
        device.save()
        return device, True
    moved = device.user_id != user.pk
    device.user = user
    device.name = name or ("" if moved else device.name)
    device.last_seen_at = now
    if moved:
        device.registered_at = now
    device.save(update_fields=["user", "name", "last_seen_at", "registered_at"])
    return device, moved


@transaction.atomic
def device_remove(*, user, device_id: int) -> None:
    """The person removes one of their devices in the portal: the row and its token are
    deleted. Someone else's device and one that is gone are the same Device.DoesNotExist, so
    nobody learns which ids exist."""
    deleted, _rows = Device.objects.filter(user=user, pk=device_id).delete()
    if not deleted:
        raise Device.DoesNotExist("You have no such device.")


@transaction.atomic
def device_sign_out(*, user, platform: str, token: str) -> bool:
    """The app signs out on its device: the token is deleted. False if `user` had no such
    device (already signed out, or not theirs)."""
    try:
        token = device_token_clean(platform=platform, token=token)
    except ValidationError:
        return False
    deleted, _rows = Device.objects.filter(user=user, platform=platform, token=token).delete()
    return bool(deleted)


def devices_delete_gone(*, device_ids) -> int:
    """Devices whose token the push service says no longer works: deleted (one query)."""
    if not device_ids:
        return 0
    deleted, _rows = Device.objects.filter(pk__in=list(device_ids)).delete()
    return deleted
