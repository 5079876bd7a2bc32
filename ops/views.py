from django.db import transaction
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .selectors import health_report


@transaction.non_atomic_requests
@never_cache
@require_GET
def healthz(request):
    healthy, body = health_report()
    return JsonResponse(body, status=200 if healthy else 503)
