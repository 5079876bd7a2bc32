"""Reads of the connected data stores for the admin."""

from django.db.models import QuerySet

from .models import SystemPart


def request_system_parts(request) -> QuerySet[SystemPart]:
    """Each system's part of a request, with its system, for the progress on the request page."""
    return SystemPart.objects.filter(request=request).select_related("system", "confirmed_by")
