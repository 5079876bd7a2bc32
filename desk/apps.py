from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    """The privacy officer's desk: read-only reports built from the live data (records of
    processing, request metrics) and the screen of what needs attention. Holds no personal data:
    only the CCPA figures an officer published."""

    name = "desk"
    verbose_name = _("Privacy officer's desk")

    def ready(self):
        from . import personal_data  # noqa: F401
