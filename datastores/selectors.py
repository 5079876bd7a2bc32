"""Reads of the connected data stores for the admin."""

from django.db.models import QuerySet

from .models import ConnectedSystem, SystemPart


def request_system_parts(request) -> QuerySet[SystemPart]:
    """Each system's part of a request, with its system, for the progress on the request page."""
    return SystemPart.objects.filter(request=request).select_related("system", "confirmed_by")


def webhook_part(*, request_id, system_id: int) -> SystemPart | None:
    """A request's part (by the request's public id) in a system confirmed through the API."""
    return (
        SystemPart.objects.select_related("request", "system")
        .filter(
            request__public_id=request_id,
            system_id=system_id,
            system__kind=ConnectedSystem.Kind.WEBHOOK,
        )
        .first()
    )
