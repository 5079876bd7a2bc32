"""The dsar app's own entries in the personal-data registry."""

from .models import AuditEvent, ProcessingBlock
from .registry import ErasureStrategy, Source, no_personal_data, personal_data

no_personal_data(
    AuditEvent,
    reason="Pseudonymous subject references and staff ids only; details hold no personal data.",
)
personal_data(
    ProcessingBlock,
    category="Restrictions and objections",
    purpose="To stop processing you asked us to restrict or objected to.",
    source=Source.PROVIDED,
    retention="Until you lift it, or your data is erased.",
    recipients=(),
    export_fields=("kind", "purpose", "reason", "created_at", "lifted_at"),
    erasure=ErasureStrategy.DELETE,
    user_field="user",
    email_field="email",
    erase_order=20,
)
