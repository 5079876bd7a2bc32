from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    """Purposes, the consent ledger, preferences, unsubscribe, form submissions, policy versions."""

    name = "consent"
    verbose_name = _("Consent")

    def ready(self):
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
