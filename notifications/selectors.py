from django.db.models import QuerySet

from .models import Device


def devices_for(*, user) -> QuerySet:
    """The person's registered devices, most recently registered first."""
    return Device.objects.filter(user=user).order_by("-last_seen_at", "-id")
