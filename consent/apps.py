from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    """Purposes, the consent ledger, preferences, unsubscribe, form submissions, policy versions."""

    name = "consent"
    verbose_name = _("Consent")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from dsar.mail import mail_transport

        from . import (  # noqa: F401  (registers them)
            checks,
            dashboard,
            personal_data,
            processing_uses,
            recipients,
        )
        from .mail import mail_send

        mail_transport(mail_send)  # dsar's request mails leave through the same gate
        from .models import Purpose
        from .selectors import purposes_cached_clear

        for signal in (post_save, post_delete):
            signal.connect(purposes_cached_clear, sender=Purpose, dispatch_uid="consent.purposes")
