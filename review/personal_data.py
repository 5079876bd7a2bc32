"""What manual review holds about people: its entries in the personal-data registry. Both are
service data (Part II), so service-data export and deletion requests cover them too."""

from datetime import timedelta

from dsar.registry import SERVICE_DATA_CATEGORY, ErasureStrategy, Source, personal_data

from .models import ScanReview, SpamReview
from .selectors import review_rows_for

COMMON = {
    "category": SERVICE_DATA_CATEGORY,
    "source": Source.PROVIDED,
    "erasure": ErasureStrategy.DELETE,
    # `purge_after` is set to the end of the retention when the item is sent and when it is
    # checked; the daily retention sweep deletes the row (and its file) once it has passed.
    "retention_field": "purge_after",
    "retention_period": timedelta(0),
    "erase_order": 20,  # before the workspace it belongs to
}

spam_rows, spam_rows_many = review_rows_for(SpamReview)
personal_data(
    SpamReview,
    activity="spam_review",
    export_fields=(
        "workspace",
        "state",
        "sender",
        "subject_line",
        "body",
        "decision",
        "created_at",
        "decided_at",
    ),
    subject_rows=spam_rows,
    subjects_rows=spam_rows_many,
    **COMMON,
)

scan_rows, scan_rows_many = review_rows_for(ScanReview)
personal_data(
    ScanReview,
    activity="scan_review",
    export_fields=(
        "workspace",
        "state",
        "image",
        "recognised_text",
        "checked_text",
        "decision",
        "created_at",
        "decided_at",
    ),
    subject_rows=scan_rows,
    subjects_rows=scan_rows_many,
    **COMMON,
)
