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
