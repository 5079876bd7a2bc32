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
