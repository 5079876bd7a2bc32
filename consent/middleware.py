from django.utils.cache import patch_vary_headers

from dsar.registry import Subject

from . import services
from .cookies import gpc_sent

SESSION_FLAG = "consent_gpc_applied"


class GlobalPrivacyControlMiddleware:
    """An account holder's browser sends Global Privacy Control: record, once per session, that
    they opt out of sharing with reselling partners."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.gpc = gpc_sent(request)
        user = getattr(request, "user", None)
        if (
            request.gpc
            and user is not None
            and user.is_authenticated
            and not request.session.get(SESSION_FLAG)
        ):
            services.consent_gpc_apply(
                subject=Subject(user_id=user.pk), ip_hash=services.request_ip_hash(request)
            )
            request.session[SESSION_FLAG] = True
        response = self.get_response(request)
        # What a page shows (banner, widgets, switches) depends on the signal: caches must know.
        patch_vary_headers(response, ("Sec-GPC",))
        if (
            request.method == "GET"
            and response.status_code == 200
            and response.get("Content-Type", "").startswith("text/html")
        ):
            services.privacy_signal_count(gpc=request.gpc)  # for the officers' GPC share
        return response
