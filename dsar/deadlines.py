"""Deadline arithmetic, GDPR Art. 12(3) style: one calendar month, clamped to the month's end."""

from datetime import datetime

from dateutil.relativedelta import relativedelta


def add_months(moment: datetime, months: int) -> datetime:
    """31 January + 1 month is 28 (or 29) February; 30 April + 1 month is 30 May."""
    return moment + relativedelta(months=months)


def due_after_receipt(*, received_at: datetime, verified_at: datetime | None, pauses: bool):
    """The due time, or None while the clock waits for the identity to be confirmed."""
    if not pauses:
        return add_months(received_at, 1)
    if verified_at is None:
        return None
    return add_months(received_at, 1) + (verified_at - received_at)
