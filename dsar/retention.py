"""Retention: rows kept longer than their model's declared period are erased, every day.

Generic over the personal-data registry: every entry with `retention_field` and
`retention_period` is swept, and every legal hold with a hold-until date (invoices) loses the
rows whose date has passed: the law no longer requires them. Each model is worked in bounded
batches keyed by `pk__gt=last_pk`, so a sweep of millions of rows never holds one huge
transaction, and a sweep that is stopped half-way (a worker killed) simply continues next time:
erased rows are gone, anonymised rows no longer match.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import registry
from .claims import claim_due
from .erasure import _rows_delete
from .registry import ErasureStrategy, PersonalData
from .services import audit_record


def _constant_replacements(entry: PersonalData) -> dict:
    return {name: value for name, value in entry.anonymise.items() if not callable(value)}


def _due(entry: PersonalData, cutoff: datetime):
    rows = entry.model._default_manager.filter(**{f"{entry.retention_field}__lt": cutoff})
    constants = _constant_replacements(entry)
    if entry.erasure == ErasureStrategy.ANONYMISE and len(constants) == len(entry.anonymise):
        # Rows already anonymised look exactly like the replacements: leave them alone.
        rows = rows.exclude(Q(**constants))
    return rows


def _erase_batch(entry: PersonalData, ids: list) -> int:
    model = entry.model
    with transaction.atomic():
        if entry.erasure == ErasureStrategy.DELETE:
            # The erasure engine's delete: the rows' stored files go too, once committed.
            rows = model._default_manager.filter(pk__in=ids)
            return _rows_delete(entry=entry, rows=rows, batch_size=len(ids))
        changed = 0
        locked = claim_due(model._default_manager.filter(pk__in=ids), batch_size=len(ids))
        for row in locked:
            for name, replacement in entry.anonymise.items():
                setattr(row, name, replacement(row) if callable(replacement) else replacement)
            row.save(update_fields=list(entry.anonymise))
            changed += 1
        return changed


def retention_sweep(*, now: datetime | None = None, batch_size: int = 1000) -> dict[str, int]:
    """Erase (or anonymise) every row past its retention; returns the count per model label."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    for entry in registry.entries():
        if entry.erasure == ErasureStrategy.LEGAL_HOLD and entry.hold_until_field:
            counts[entry.label] = _holds_expired_delete(entry, now=now, batch_size=batch_size)
            continue
        if not entry.retention_field or entry.retention_period is None:
            continue
        if entry.erasure == ErasureStrategy.LEGAL_HOLD:
            continue  # kept on purpose; detached from the person by erasure, not by age
        cutoff = now - entry.retention_period
        last_pk = None
        count = 0
        while True:
            due = _due(entry, cutoff)
            if last_pk is not None:
                due = due.filter(pk__gt=last_pk)
            ids = list(due.order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            count += _erase_batch(entry, ids)
            last_pk = ids[-1]
        counts[entry.label] = count
        audit_record(
            action="retention_sweep",
            actor_kind="system",
            detail={
                "model": entry.label,
                "rows": count,
                "strategy": str(entry.erasure),
                "cutoff": cutoff.isoformat(),
            },
        )
    return counts


def _holds_expired_delete(entry: PersonalData, *, now: datetime, batch_size: int) -> int:
    """A statutory record whose hold-until date has passed is no longer required by law: it is
    deleted (whoever it was about), in keyed batches."""
    until = entry.model._meta.get_field(entry.hold_until_field)
    today = timezone.localdate(now) if until.get_internal_type() == "DateField" else now
    expired = entry.model._default_manager.filter(**{f"{entry.hold_until_field}__lt": today})
    count, last_pk = 0, None
    while True:
        page = expired if last_pk is None else expired.filter(pk__gt=last_pk)
        ids = list(page.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        with transaction.atomic():
            rows = entry.model._default_manager.filter(pk__in=ids)
            count += _rows_delete(entry=entry, rows=rows, batch_size=len(ids))
        last_pk = ids[-1]
    audit_record(
        action="retention_sweep",
        actor_kind="system",
        detail={
            "model": entry.label,
            "rows": count,
            "strategy": "hold_expired",
            "cutoff": today.isoformat(),
        },
    )
    return count
