"""What the desk holds about people: nothing (published figures are counts)."""

from dsar.registry import no_personal_data

from .models import CcpaDisclosurePublication

no_personal_data(
    CcpaDisclosurePublication,
    reason="A year's published CCPA request counts; who published it is in the audit log.",
)
