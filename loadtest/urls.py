"""The portal's URLs plus one trivial view, for the load-test settings only
(`workpex_portal.settings.loadtest`): the throughput benchmark compares one-click unsubscribe
with a view that does nothing but answer, through the same middleware and server."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from workpex_portal.urls import *  # noqa: F403
from workpex_portal.urls import urlpatterns as portal_urlpatterns


@csrf_exempt
@require_POST
def trivial(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("_bench/trivial/", trivial, name="bench_trivial"), *portal_urlpatterns]
