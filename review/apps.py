from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewConfig(AppConfig):
    name = "review"
    verbose_name = _("Manual review")

    def ready(self):
        from dsar.dashboard import staff_actions_label

        from . import personal_data  # noqa: F401  (registers the models)
        from .services import STAFF_ACTION_LABELS

        staff_actions_label(STAFF_ACTION_LABELS)
