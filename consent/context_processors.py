from .app_settings import app_settings
from .cookies import cookie_choices


def cookie_consent(request):
    """`cookie_consent` for every template: the banner and what it allows are decided here, on
    the server, so a refused script is never in the page at all."""
    return {
        "cookie_consent": cookie_choices(request),
        "social_widget_scripts": app_settings.SOCIAL_WIDGET_SCRIPTS,
    }
