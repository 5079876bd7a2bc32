"""The desk's writes: publishing a year's CCPA disclosure, and taking it down."""

from django.db import transaction
from django.utils import timezone

from dsar.services import audit_record

from . import metrics
from .models import CcpaDisclosurePublication


@transaction.atomic
def ccpa_disclosure_publish(*, year: int, actor) -> CcpaDisclosurePublication:
    """Publish (or publish again) the year's figures as they stand now."""
    publication, _created = CcpaDisclosurePublication.objects.update_or_create(
        year=year,
        defaults={"rows": metrics.ccpa_disclosure(year=year), "published_at": timezone.now()},
    )
    audit_record(action="ccpa_disclosure_published", actor=actor, detail={"year": year})
    return publication


@transaction.atomic
def ccpa_disclosure_unpublish(*, year: int, actor) -> bool:
    deleted, _rows = CcpaDisclosurePublication.objects.filter(year=year).delete()
    if deleted:
        audit_record(action="ccpa_disclosure_unpublished", actor=actor, detail={"year": year})
    return bool(deleted)
