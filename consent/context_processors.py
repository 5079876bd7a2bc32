from functools import cache

from .app_settings import app_settings
from .cookies import cookie_choices


def cookie_consent(request):
    """`cookie_consent` for every template: the banner and what it allows are decided here, on
    the server, so a refused script is never in the page at all."""
    return {
        "cookie_consent": cookie_choices(request),
        "social_widget_scripts": app_settings.SOCIAL_WIDGET_SCRIPTS,
    }


def policy_notice(request):
    """`policy_banner`: the upcoming material version the signed-in person has not acknowledged
    (one query, only when a template asks), and `policy_upcoming` for the signup page."""
    from . import selectors

    user = getattr(request, "user", None)

    @cache
    def banner():
        return selectors.policy_banner_version(user=user) if user is not None else None

    @cache
    def upcoming():
        return selectors.policy_versions_upcoming()

    return {"policy_banner": banner, "policy_upcoming": upcoming}
