from django.shortcuts import render
from django.template.response import TemplateResponse

from consent.app_settings import app_settings as consent_settings
from consent.cookies import cookie_choices


def home(request):
    """The home page. Its share section loads the social networks' widgets once the person
    accepted them, so only then does this one response's Content-Security-Policy allow them."""
    response = TemplateResponse(request, "home.html")
    if cookie_choices(request).social:
        response._csp_update = consent_settings.SOCIAL_WIDGET_CSP
    return response


def csrf_failure(request, reason=""):
    """A plain-language page for a refused form; the technical reason is not shown."""
    return render(request, "403_csrf.html", status=403)
