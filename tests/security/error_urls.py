"""The portal's URLs plus views that fail on purpose, for the error-page tests."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.urls import path

from workpex_portal.urls import (  # noqa: F401  (the handlers are read from the root urlconf)
    handler400,
    handler403,
    handler404,
    handler500,
)
from workpex_portal.urls import urlpatterns as portal_urlpatterns

SECRET = "secret-data-4111111111111111"


def fail_400(request):
    raise SuspiciousOperation(f"bad input {SECRET}")


def fail_403(request):
    raise PermissionDenied(f"not yours {SECRET}")


def fail_404(request):
    raise Http404(f"no row {SECRET}")


def fail_500(request):
    raise RuntimeError(f"database exploded {SECRET}")


urlpatterns = [
    path("test-errors/400/", fail_400),
    path("test-errors/403/", fail_403),
    path("test-errors/404/", fail_404),
    path("test-errors/500/", fail_500),
    *portal_urlpatterns,
]
