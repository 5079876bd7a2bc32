from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DatastoresConfig(AppConfig):
    """Connected data stores: other databases, described by Fides datasets, that access and
    erasure reach. It sits above dsar and plugs into requests through `dsar.request_parts`."""

    name = "datastores"
    verbose_name = _("Connected data stores")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import parts, personal_data  # noqa: F401  (register the hook and the entries)
