"""Devices that receive push notifications, and the test-mode provider's outbox.

A device is an app installation where a person signed in: its platform and the token the
platform's push service gave it. The token is personal data (it addresses one person's device);
removing the device, or signing out of the app, deletes the row and so the token.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Platform(models.TextChoices):
    APPLE = "apple", _("Apple (iPhone, iPad, Mac)")
    GOOGLE = "google", _("Google (Android)")
    WINDOWS = "windows", _("Windows")


class Device(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_devices"
    )
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    token = models.CharField(_("device token"), max_length=1024)
    name = models.CharField(
        _("device name"), max_length=100, blank=True, help_text=_("As the app named it.")
    )
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last registered at"), default=timezone.now)

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        verbose_name = _("registered device")
        verbose_name_plural = _("registered devices")
        constraints = [
            # One row per token: registering it again moves it, it never duplicates it.
            models.UniqueConstraint(
                fields=["platform", "token"], name="notifications_device_token_once"
            ),
            models.CheckConstraint(
                condition=Q(platform__in=["apple", "google", "windows"]),
                name="notifications_device_platform_valid",
            ),
            models.CheckConstraint(condition=~Q(token=""), name="notifications_device_has_token"),
        ]

    def __str__(self) -> str:
        name = self.name or _("unnamed device")
        return f"{self.get_platform_display()}: {name}"

    @property
    def token_hint(self) -> str:
        """The token's last characters, enough to tell two devices apart."""
        return "…" + self.token[-6:]


class TestModePush(models.Model):
    """What the test-mode provider would have sent: one row per notification and device. No
    token is copied here, so removing a device leaves no token behind."""

    __test__ = False  # not a test class, whatever pytest guesses from the name

    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    purpose = models.CharField(_("purpose"), max_length=64)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("test-mode push notification")
        verbose_name_plural = _("test-mode push notifications")

    def __str__(self) -> str:
        return f"{self.purpose} → user {self.user_id}: {self.title}"
