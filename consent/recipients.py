"""The reselling partners a person's data may have gone to, as recipients the DSAR app tells
about a rectification, erasure or restriction (GDPR Art. 19)."""

from collections.abc import Iterator

from dsar.recipients import Recipient, recipient_source
from dsar.registry import Subject

from .models import ConsentEvent, Partner
from .selectors import consent_events_for


@recipient_source
def reselling_partners(subject: Subject) -> Iterator[Recipient]:
    """Every partner the person ever allowed to contact them: they may hold the person's data.

    Partners have no API here, so an officer contacts each one by hand (a task on the request).
    """
    partner_ids = (
        consent_events_for(subject=subject)
        .filter(action=ConsentEvent.Action.GRANTED, partner__isnull=False)
        .values("partner_id")
    )
    for partner in Partner.objects.filter(pk__in=partner_ids).order_by("name"):
        yield Recipient(key=f"partner:{partner.code}", name=partner.name, holds=PARTNER_HOLDS)


# What a partner allowed to contact a person receives: how to reach them and their name.
PARTNER_HOLDS = ("accounts.User.email", "accounts.User.full_name")
