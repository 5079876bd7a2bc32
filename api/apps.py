from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    """The REST API under /api/v1/ for the company's other systems (docs/api.md). A top-floor
    app like `desk`: it calls every app's services and selectors, and nothing imports it."""

    name = "api"
    verbose_name = _("API for other systems")

    def ready(self):
        from . import personal_data  # noqa: F401
