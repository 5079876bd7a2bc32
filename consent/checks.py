from datetime import timedelta

from django.conf import settings
from django.core import checks

from .app_settings import app_settings


@checks.register(checks.Tags.security, deploy=True)
def check_site_url_is_https(app_configs=None, **kwargs):
    """RFC 8058 needs an https unsubscribe address; links in mail must not be plain http."""
    if settings.DEBUG or app_settings.SITE_URL.startswith("https://"):
        return []
    return [
        checks.Error(
            "SITE_URL must start with https:// in production.",
            hint="Set SITE_URL to the portal's public https address (used in mailed links).",
            id="consent.E001",
        )
    ]


@checks.register()
def check_notices_retry_for_three_days(app_configs=None, **kwargs):
    """Policy-change notices ride out a mail outage of three days (SECURITY.md): a shorter retry
    window would give up on them sooner."""
    retry_for = app_settings.NOTICE_RETRY_FOR
    if retry_for >= timedelta(hours=72):
        return []
    return [
        checks.Error(
            "CONSENT_NOTICE_RETRY_FOR_HOURS must be at least 72.",
            hint="Notices are retried for at least three days before they are recorded failed.",
            id="consent.E003",
        )
    ]


@checks.register(checks.Tags.security, deploy=True)
def check_receipt_signing_key(app_configs=None, **kwargs):
    """Production signs consent receipts with its own key, not one derived from SECRET_KEY."""
    if settings.DEBUG or app_settings.RECEIPT_SIGNING_KEY:
        return []
    return [
        checks.Error(
            "CONSENT_RECEIPT_SIGNING_KEY is not set: consent receipts would be signed with a key "
            "derived from SECRET_KEY.",
            hint="Generate an EC P-256 key (openssl ecparam -name prime256v1 -genkey -noout | "
            "openssl pkcs8 -topk8 -nocrypt) and set its PEM in CONSENT_RECEIPT_SIGNING_KEY.",
            id="consent.E005",
        )
    ]


_PLACEHOLDERS = {"privacy@workpex.example", "+1 555 0100", "1 Example Street", "00000"}


@checks.register(checks.Tags.security, deploy=True)
def check_controller_is_real(app_configs=None, **kwargs):
    """Receipts give people the controller's address and phone: not the placeholders."""
    controller = app_settings.CONTROLLER
    values = {controller.get("email"), controller.get("phone"), *controller["address"].values()}
    if settings.DEBUG or not values & _PLACEHOLDERS:
        return []
    return [
        checks.Error(
            "PRIVACY_CONTROLLER still holds placeholder contact details.",
            hint="Set CONTROLLER_EMAIL, CONTROLLER_PHONE, CONTROLLER_STREET, "
            "CONTROLLER_LOCALITY, CONTROLLER_POSTAL_CODE and CONTROLLER_COUNTRY.",
            id="consent.E004",
        )
    ]


@checks.register(checks.Tags.database)
def check_consent_purposes_are_activities(app_configs=None, databases=None, **kwargs):
    """A purpose people consent to is a processing activity based on consent: the same code,
    basis (a) (docs/activities.md)."""
    from django.db import connection

    from dsar.models import LawfulBasis, ProcessingActivity

    from .models import LegalBasis, Purpose

    tables = connection.introspection.table_names()
    if not databases or not {Purpose._meta.db_table, ProcessingActivity._meta.db_table} <= set(
        tables
    ):
        return []
    bases = dict(ProcessingActivity.objects.values_list("code", "lawful_basis"))
    return [
        checks.Error(
            f"The consent purpose {code!r} is not a processing activity based on consent.",
            hint="Add the activity with the same code and basis (a) in the admin.",
            id="consent.E006",
            obj=code,
        )
        for code in Purpose.objects.filter(legal_basis=LegalBasis.CONSENT).values_list(
            "code", flat=True
        )
        if bases.get(code) != LawfulBasis.CONSENT
    ]
