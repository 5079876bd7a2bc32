"""What the datastores app holds about people, in the personal-data registry."""

from django.utils.translation import gettext_noop

from dsar.registry import ErasureStrategy, Source, no_personal_data, personal_data

from .models import ConnectedSystem, DatasetVersion, SystemPart

no_personal_data(ConnectedSystem, reason="Other systems' names and encrypted connections.")
no_personal_data(DatasetVersion, reason="Descriptions of other systems' tables, no rows.")
personal_data(
    SystemPart,
    category=gettext_noop("Your privacy requests"),
    activity="privacy_requests",
    source=Source.AUTOMATIC,
    export_fields=("kind", "state", "finished_at"),
    erasure=ErasureStrategy.LEGAL_HOLD,
    legal_hold_reason=(
        "GDPR Art. 17: to erase your data in every system we hold it in, we keep whom to erase "
        "until that system's part is done."
    ),
    hold_fields=("identities",),
    detach_fields=("data_file",),  # what an access part read: deleted with the rest
    hold_period="Only until that system's part is done; then it is cleared.",
    user_field="request__user",
    email_field="request__email",
    erase_order=85,
)
