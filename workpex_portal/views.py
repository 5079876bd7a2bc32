import json
from http import HTTPStatus

from csp.decorators import csp_update
from django.http import HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.template.response import TemplateResponse

from consent.app_settings import app_settings as consent_settings
from consent.cookies import cookie_choices


def home(request):
    """The home page. Its share section loads the social networks' widgets once the person
    accepted them, so only then does this one response's Content-Security-Policy allow them."""
    if cookie_choices(request).social:
        return csp_update(consent_settings.SOCIAL_WIDGET_CSP)(_home)(request)
    return _home(request)


def _home(request):
    return TemplateResponse(request, "home.html")


def csrf_failure(request, reason=""):
    """A plain-language page for a refused form; the technical reason is not shown."""
    return render(request, "403_csrf.html", status=403)


# Error pages: plain words in the person's language, never the exception or any data. The
# exception Django passes in is deliberately not given to the template.


def _api_problem(request, status: int) -> HttpResponse | None:
    """Under /api/ every error is an RFC 9457 problem (as the API's own, api.problems), also
    the ones Django answers before the API's views run: a refused query string, an unknown
    path."""
    if not request.path.startswith("/api/"):
        return None
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": HTTPStatus(status).description,
        "instance": request.path,
    }
    return HttpResponse(json.dumps(body), status=status, content_type="application/problem+json")


def bad_request(request, exception=None):
    return _api_problem(request, 400) or render(request, "400.html", status=400)


def permission_denied(request, exception=None):
    return _api_problem(request, 403) or render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    return _api_problem(request, 404) or render(request, "404.html", status=404)


def server_error(request):
    """Rendered without the request: no context processor (and no database query) runs, since
    the failure may be the database itself."""
    return HttpResponseServerError(loader.get_template("500.html").render())
