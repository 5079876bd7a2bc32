from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """Registered devices and push notifications: the one push module, its provider adapter."""

    name = "notifications"
    verbose_name = _("Push notifications")

    def ready(self):
        from . import checks, dashboard, personal_data, processing_uses  # noqa: F401  (registers)
