"""The uses of data a person may restrict or object to, as the consent app knows them: every
optional purpose (officers edit their names in the admin), all direct marketing at once, and the
processing the policy names that rests on no consent. (Push notifications are named by the
notifications app.)"""

from collections.abc import Iterator

from django.utils.translation import gettext_lazy as _

from dsar.purposes import DIRECT_MARKETING, ProcessingUse, processing_use_source

from .models import Channel, Purpose
from .selectors import BEHAVIOUR_ANALYTICS, SERVICE_IMPROVEMENT


@processing_use_source
def consent_uses() -> Iterator[ProcessingUse]:
    yield ProcessingUse(
        code=DIRECT_MARKETING,
        label=_("All direct marketing: newsletter, offers, events and partners' mail"),
        direct_marketing=True,
        order=0,
    )
    purposes = Purpose.objects.filter(is_active=True, is_essential=False).exclude(
        channel=Channel.COOKIE
    )
    for purpose in purposes.order_by("position", "code"):
        yield ProcessingUse(
            code=purpose.code,
            label=purpose.name,
            description=purpose.description,
            direct_marketing=purpose.is_direct_marketing,
            order=10,
        )
    yield ProcessingUse(
        code=BEHAVIOUR_ANALYTICS,
        label=_("Analysing how I use the portal (the pages I visit while signed in)"),
        order=30,
    )
    yield ProcessingUse(
        code=SERVICE_IMPROVEMENT,
        label=_("Studying trends in my choices to improve our services"),
        order=30,
    )
