"""Every write and business rule of the dsar app. Import from here: `from dsar import services`."""

from .base import RequestError, audit_record, request_subject
from .blocks import (
    LIFT_NOTICE_DAYS,
    processing_block_add,
    processing_block_announce_lift,
    processing_blocks_lift_due,
)
from .erasure import erasure_cancel, erasure_run, erasure_schedule, erasures_due
from .exports import (
    export_build,
    export_download_record,
    export_redact,
    export_release,
    exports_create,
    exports_sweep,
)
from .recipients import (
    recipient_notification_mark_done,
    recipient_notification_send,
    recipient_notifications_create,
    recipient_notifications_sweep,
)
from .requests import (
    TRANSITIONS,
    dsar_rectification_decide,
    dsar_reminders_send,
    dsar_request_apply,
    dsar_request_assign,
    dsar_request_confirm,
    dsar_request_extend,
    dsar_request_file,
    dsar_request_note,
    dsar_request_transition,
    dsar_request_withdraw,
    dsar_requests_lapse_unconfirmed,
    dsar_unassigned_nag,
    request_completion_blockers,
)

__all__ = [
    "LIFT_NOTICE_DAYS",
    "TRANSITIONS",
    "RequestError",
    "audit_record",
    "erasure_cancel",
    "erasure_run",
    "erasure_schedule",
    "erasures_due",
    "export_build",
    "export_download_record",
    "export_redact",
    "export_release",
    "exports_create",
    "exports_sweep",
    "dsar_rectification_decide",
    "dsar_reminders_send",
    "dsar_request_apply",
    "dsar_request_assign",
    "dsar_request_confirm",
    "dsar_request_extend",
    "dsar_request_file",
    "dsar_request_note",
    "dsar_request_transition",
    "dsar_request_withdraw",
    "dsar_requests_lapse_unconfirmed",
    "dsar_unassigned_nag",
    "processing_block_add",
    "processing_block_announce_lift",
    "processing_blocks_lift_due",
    "recipient_notification_mark_done",
    "recipient_notification_send",
    "recipient_notifications_create",
    "recipient_notifications_sweep",
    "request_completion_blockers",
    "request_subject",
]
