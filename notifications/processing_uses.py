"""Push notifications as a use of data a person may restrict or object to, whatever they are
about; the consent gate stops them on the push channel (consent.selectors.purpose_block_uses)."""

from collections.abc import Iterator

from django.utils.translation import gettext_lazy as _

from consent.selectors import PUSH_NOTIFICATIONS
from dsar.purposes import ProcessingUse, processing_use_source


@processing_use_source
def push_uses() -> Iterator[ProcessingUse]:
    yield ProcessingUse(
        code=PUSH_NOTIFICATIONS,
        label=_("Push notifications to my devices (all but account and security ones)"),
        order=20,
    )
