"""What the consent app holds about people: its entries in the personal-data registry."""

from datetime import timedelta

from dsar.registry import ErasureStrategy, Source, no_personal_data, personal_data

from .models import (
    CampaignUnsubscribeCount,
    ConsentEvent,
    FormSubmission,
    PageViewCount,
    Partner,
    PolicyAcknowledgement,
    PolicyNotice,
    PolicyVersion,
    PrivacySignalCount,
    Purpose,
)

personal_data(
    ConsentEvent,
    category="Consents and marketing preferences",
    data_subjects=("Account holders", "People without an account who gave us their address"),
    purpose=(
        "To know what you agreed to and withdrew, when and how, so that we contact you only as "
        "you allow, and can prove it."
    ),
    source=Source.PROVIDED,
    retention="As long as we hold your other data; erased with it.",
    recipients=("Workpex staff on a need-to-know basis",),
    export_fields=("purpose", "partner", "action", "method", "policy_version", "at", "reason"),
    erasure=ErasureStrategy.DELETE,
    user_field="user",
    email_field="email",
    erase_order=30,
)
personal_data(
    FormSubmission,
    category="Forms you sent us",
    data_subjects=("Account holders", "People without an account who filled in a form"),
    purpose=(
        "To handle what you asked for: event registrations, newsletter signups, downloads, "
        "contests, surveys, support, quotes and messages."
    ),
    source=Source.PROVIDED,
    retention=(
        "From six months to two years depending on the form (shown with each form), then "
        "deleted automatically."
    ),
    recipients=("Workpex staff on a need-to-know basis", "Our email delivery provider"),
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
    category="Privacy policy notices",
    purpose=(
        "To tell you about significant changes to our privacy policy at least 30 days before "
        "they affect your rights, and to prove that we did."
    ),
    source=Source.AUTOMATIC,
    retention="Three years after the notice was made, as proof that we told you; then deleted.",
    recipients=("Our email delivery provider",),
    export_fields=("version", "state", "attempts", "sent_at", "created_at"),
    erasure=ErasureStrategy.DELETE,
    user_field="user",
    retention_field="created_at",
    retention_period=timedelta(days=3 * 365),
    erase_order=30,
)
personal_data(
    PolicyAcknowledgement,
    category="Privacy policy notices",
    purpose="To know that you read a change to our privacy policy, so we stop reminding you.",
    source=Source.PROVIDED,
    retention="While you have an account; erased with it.",
    recipients=(),
    export_fields=("version", "method", "at"),
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
