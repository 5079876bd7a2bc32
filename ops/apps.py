from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Running the portal: health, worker heartbeats, demo data. Holds no personal data."""

    name = "ops"
    verbose_name = _("Operations")

    def ready(self):
        from . import personal_data  # noqa: F401  (marks framework models)
