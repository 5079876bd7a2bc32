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
def check_mail_charset_is_utf8(app_configs=None, **kwargs):
    """consent/mime.py writes batch mail in UTF-8, as Django does with its default charset."""
    if settings.DEFAULT_CHARSET.lower() == "utf-8":
        return []
    return [
        checks.Error(
            "DEFAULT_CHARSET must be utf-8: policy notices are written in UTF-8.",
            id="consent.E002",
        )
    ]
