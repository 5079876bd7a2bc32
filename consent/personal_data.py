"""What the consent app holds about people: its entries in the personal-data registry."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dsar.registry import ErasureStrategy, Source, no_personal_data, personal_data

from .models import (
    CampaignUnsubscribeCount,
    ConsentEvent,
    FormSubmission,
    MessageChannel,
    PageViewCount,
    Partner,
    PolicyAcknowledgement,
    PolicyNotice,
    PolicyVersion,
    PrivacySignalCount,
    Purpose,
)


# Exports name purposes, partners and policy versions in words, not by id (`export_words`): each
# function reads its table once per export and returns the lookup for the rows.
def _lookup(words: dict[Any, str]) -> Callable[[Any], Any]:
    return lambda pk: None if pk is None else words.get(pk, str(pk))


def purpose_names() -> Callable[[Any], Any]:
    return _lookup(dict(Purpose.objects.values_list("pk", "name")))


def partner_names() -> Callable[[Any], Any]:
    return _lookup(dict(Partner.objects.values_list("pk", "name")))


def policy_version_names() -> Callable[[Any], Any]:
    return _lookup(
        {
            pk: _("Privacy policy %(version)s, in force from %(date)s")
            % {"version": version, "date": effective_at.date().isoformat()}
            for pk, version, effective_at in PolicyVersion.objects.values_list(
                "pk", "version", "effective_at"
            )
        }
    )


def channel_names() -> Callable[[Any], Any]:
    words = {value: str(label) for value, label in MessageChannel.choices}
    every = _("Every channel")
    return lambda value: words.get(value, value) if value else every


personal_data(
    ConsentEvent,
    activity="consent_records",
    category=gettext_noop("Consents and marketing preferences"),
    source=Source.PROVIDED,
    export_fields=(
        "purpose",
        "partner",
        "action",
        "channel",
        "method",
        "policy_version",
        "at",
        "reason",
    ),
    export_words={
        "purpose": purpose_names,
        "partner": partner_names,
        "channel": channel_names,
        "policy_version": policy_version_names,
    },
    erasure=ErasureStrategy.DELETE,
    user_field="user",
    email_field="email",
    erase_order=30,
)
personal_data(
    FormSubmission,
    activity="forms",
    category=gettext_noop("Forms you sent us"),
    source=Source.PROVIDED,
    export_fields=(
        "kind",
        "email",
        "name",
        "company_name",
        "message",
        "details",
        "purpose",
        "source",
        "marketing_purpose",
        "created_at",
        "retain_until",
        "confirmed_at",
        "from_child",
    ),
    export_words={"marketing_purpose": purpose_names},
    erasure=ErasureStrategy.DELETE,
    user_field="user",
    email_field="email",
    # Each row carries its own end of retention; the sweep erases rows once it has passed.
    retention_field="retain_until",
    retention_period=timedelta(0),
    erase_order=30,
)
personal_data(
    PolicyNotice,
    activity="policy_notices",
    category=gettext_noop("Privacy policy notices"),
    source=Source.AUTOMATIC,
    export_fields=("version", "state", "attempts", "sent_at", "created_at"),
    export_words={"version": policy_version_names},
    erasure=ErasureStrategy.DELETE,
    user_field="user",
    retention_field="created_at",
    retention_period=timedelta(days=3 * 365),
    erase_order=30,
)
personal_data(
    PolicyAcknowledgement,
    activity="policy_notices",
    category=gettext_noop("Privacy policy notices"),
    source=Source.PROVIDED,
    export_fields=("version", "method", "at"),
    export_words={"version": policy_version_names},
    erasure=ErasureStrategy.DELETE,
    user_field="user",
    erase_order=30,
)
no_personal_data(Purpose, reason="Descriptions of purposes, edited by privacy officers.")
no_personal_data(Partner, reason="Reselling partners: companies, not people.")
no_personal_data(PolicyVersion, reason="The published texts of the privacy policy.")
no_personal_data(PageViewCount, reason="Page views per page per day: counts only.")
no_personal_data(
    CampaignUnsubscribeCount,
    reason="Daily counts of unsubscribes per mailing; who unsubscribed is in the ledger only.",
)
no_personal_data(
    PrivacySignalCount,
    reason="Daily counts of pages served, with and without the GPC signal; nothing per visitor.",
)
