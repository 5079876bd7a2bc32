from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DsarConfig(AppConfig):
    """The privacy kernel: the personal-data registry, data-subject requests, the audit log.

    It imports neither ``accounts`` nor ``consent``; they register into it.
    """

    name = "dsar"
    verbose_name = _("Data-subject requests")

    def ready(self):
        from . import checks, personal_data  # noqa: F401  (registers the check and the entries)
