"""Claiming due job rows: the one helper every job uses (design, "Jobs are rows first").

A job's work is rows with a state. A worker claims a bounded batch of the rows that are due, so
that two workers never work one row:

- PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED` in a transaction. Rows another worker holds are
  skipped, not waited for, so workers share the due rows without blocking each other.
- SQLite: `select_for_update()` is a no-op, but the settings open every transaction with
  `BEGIN IMMEDIATE` (`transaction_mode`), which takes the database's write lock at once: a second
  claimer waits until the first commits, then sees the rows as claimed (they no longer match the
  due filter) and takes the next ones.

Two ways to use it:

- `mark` given: the rows are claimed and marked in one transaction (state, claim token,
  claimed-at, attempts: whatever "claimed" means for that job) and the lock ends at once; the
  worker then works them outside any transaction. The due filter must not match a marked row, or
  only once it is stuck (`stuck_rows`).
- no `mark`: the rows are only locked, inside the caller's transaction, which works and changes
  them before it commits (the lock holds until then).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connections, models, transaction
from django.db.models import Q, QuerySet

from .registry import values_in


def claim_due(
    rows: QuerySet, *, batch_size: int, mark: dict | None = None, of: tuple = ("self",)
) -> list:
    """Claim up to `batch_size` of `rows` (the due rows, ordered as they should be worked) and
    return them as `rows` yields them: model instances, or `values_list` tuples whose first value
    is the primary key. `mark`: the fields that say "claimed", set with one UPDATE. `of`: the
    tables to lock (`select_for_update(of=...)`): only the job's own row unless a job says so;
    PostgreSQL cannot lock the nullable side of an outer join anyway."""
    if mark is None and not connections[rows.db].in_atomic_block:
        raise transaction.TransactionManagementError(
            "claim_due without mark only locks the rows: call it inside transaction.atomic()"
        )
    with transaction.atomic(using=rows.db, savepoint=False):
        claimed = list(rows.select_for_update(skip_locked=True, of=of)[:batch_size])
        if claimed and mark:
            keys = [row.pk if isinstance(row, models.Model) else row[0] for row in claimed]
            rows.model._default_manager.filter(values_in("pk", keys)).update(**mark)
    return claimed


def claim_one(rows: QuerySet, *, of: tuple = ("self",)):
    """Lock the first row of `rows` (a job's one row, by its key and due filter) inside the
    caller's transaction, or None when it is not due or another worker holds it."""
    claimed = claim_due(rows, batch_size=1, of=of)
    return claimed[0] if claimed else None


def stuck_rows(*, state, since: str, after: timedelta, now: datetime) -> Q:
    """Rows claimed (in `state`, at `since`) longer than `after` ago and never finished: their
    worker died. `after` is longer than the job may run (its hard time limit), so a row still
    being worked is never stuck."""
    return Q(state=state, **{f"{since}__lt": now - after})
