"""Erasure: remove everything held about a subject, generically over the personal-data registry.

Each registered model is handled by its declared strategy, in `erase_order` (rows that point at
others go before the rows they point at):

- DELETE: rows are deleted in batches, one set-based DELETE per batch
  (`… WHERE pk IN (SELECT pk … LIMIT n)`; a SELECT of the keys first where files must go too);
- ANONYMISE: the declared replacements are written with one set-based UPDATE per batch;
- LEGAL_HOLD: rows are kept, and their `detach_fields` set to None/"" so they no longer point at
  the person.

One statement first finds which entries hold anything of the subjects; the others are skipped.
Each model's work is one transaction: a crash loses at most that model's unfinished work, which a
re-run does again. Rows already anonymised or detached are skipped, and deleted rows are gone, so
a re-run of a finished erasure finds nothing and changes nothing. Files of deleted (or cleared)
file fields are removed from storage only once the transaction has committed: a rollback must
not leave rows pointing at files that are gone.

Recording the erasure in the audit log belongs to the service that calls this (it knows who asked
and why); `personal_data_leftovers` lets officers and tests check that nothing was missed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any

from django.apps import apps
from django.core.files.storage import Storage
from django.db import models, transaction
from django.db.models import Count, F, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.db.models.lookups import IContains

from dsar import registry
from dsar.registry import ErasureStrategy, PersonalData, Subject

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 1000
DEFAULT_CHUNK_SIZE = 500  # subjects per condition in a bulk erasure


def erasure_erase_subject(
    *,
    subject: Subject,
    batch_size: int = DEFAULT_BATCH_SIZE,
    categories: Iterable[str] | None = None,
) -> dict[str, int]:
    """Erase everything held about `subject` through the registry; return rows changed per model.

    Every registered model appears in the result, with 0 where nothing was held. Pass a subject
    with both the user id and the email address, so that rows known only by email are found too.
    Safe to run again, and to re-run after a crash: it finishes what is left. Call it outside a
    transaction (from a worker): inside one, the per-model transactions are only savepoints and
    nothing, files included, is final until the caller commits. `categories` limits the erasure
    to those registry categories (a service-data deletion erases "Service data" only).

    The bulk eraser with one subject: the same statements as ever (`rows_for(subject)`).
    """
    return erasure_erase_subjects(subjects=[subject], batch_size=batch_size, categories=categories)


def erasure_erase_subjects(
    *,
    subjects: Sequence[Subject],
    batch_size: int = DEFAULT_BATCH_SIZE,
    categories: Iterable[str] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> dict[str, int]:
    """Erase everything held about all of `subjects`, set-based; return rows changed per model.

    Subjects are taken `chunk_size` at a time; for each chunk, each registry entry (in
    `erase_order`, one transaction each, as for one subject) finds the rows of the whole chunk
    with one condition (`PersonalData.rows_for_many`: `user_field IN (…)` OR the case-insensitive
    email match against the chunk's addresses) and applies its strategy in batches of
    `batch_size` rows. So the statements sent grow with chunks and row batches, never with the
    number of subjects. Entries found by a `subject_rows` function use their `subjects_rows`
    when declared, else the per-subject querysets ORed into one (still one statement per batch).
    The same guarantees as `erasure_erase_subject`: idempotent, resumable after a crash, files
    deleted after commit.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    wanted = set(categories) if categories is not None else None
    chosen = [e for e in registry.entries() if wanted is None or e.category in wanted]
    counts: dict[str, int] = {entry.label: 0 for entry in chosen}
    unique = list(dict.fromkeys(subjects))
    for start in range(0, len(unique), chunk_size):
        chunk = unique[start : start + chunk_size]
        for entry in registry.entries_holding(chosen, chunk):
            with transaction.atomic():
                counts[entry.label] += _erase_entry(
                    entry=entry, subjects=chunk, batch_size=batch_size
                )
    return counts


def _erase_entry(*, entry: PersonalData, subjects: Sequence[Subject], batch_size: int) -> int:
    """Apply one model's erasure strategy to the subjects' rows; return the rows changed."""
    rows = entry.rows_for_many(subjects)
    strategy = ErasureStrategy(entry.erasure)
    if strategy == ErasureStrategy.DELETE:
        return _rows_delete(entry=entry, rows=rows, batch_size=batch_size)
    if strategy == ErasureStrategy.ANONYMISE:
        changes = entry.anonymise_values()  # checked again: an entry may be built by hand
    else:
        changes = entry.detach_values()
    return _rows_update(entry=entry, rows=rows, changes=changes, batch_size=batch_size)


def _batches(rows: QuerySet, *, batch_size: int, columns: Sequence[str]) -> Iterator[list[tuple]]:
    """(pk, *columns) of `rows` in primary-key order, a batch at a time.

    Keyed by `pk__gt` rather than offsets, so each batch is an index range scan and rows changed by
    the previous batch cannot shift the next one.
    """
    last_pk = None
    while True:
        page = rows if last_pk is None else rows.filter(pk__gt=last_pk)
        batch = list(page.order_by("pk").values_list("pk", *columns)[:batch_size])
        if batch:
            yield batch
        if len(batch) < batch_size:
            return
        last_pk = batch[-1][0]


def _in_one_statement(*, manager, rows: QuerySet, batch_size: int, change) -> int:
    """`change` (delete or update) applied batch after batch, each batch one statement:
    `… WHERE pk IN (SELECT pk … ORDER BY pk LIMIT batch_size)`, with no round trip for the keys.
    Only for changes after which a row no longer matches `rows` (deleted, or holding constant
    replacements that `rows` excludes); it stops at the first batch that is not full."""
    changed = 0
    while True:
        done = change(manager.filter(pk__in=rows.order_by("pk").values("pk")[:batch_size]))
        changed += done
        if done < batch_size:
            return changed


def _rows_delete(*, entry: PersonalData, rows: QuerySet, batch_size: int) -> int:
    """Delete the rows in batches; their files go once the transaction commits."""
    file_fields = _file_fields(entry.model)
    manager = entry.model._default_manager
    if not file_fields:
        return _in_one_statement(
            manager=manager,
            rows=rows,
            batch_size=batch_size,
            change=lambda batch: batch.delete()[1].get(entry.label, 0),
        )
    deleted = 0
    for batch in _batches(rows, batch_size=batch_size, columns=[f.attname for f in file_fields]):
        _count, per_model = manager.filter(pk__in=[row[0] for row in batch]).delete()
        deleted += per_model.get(entry.label, 0)
        _files_delete_on_commit(entry=entry, fields=file_fields, batch=batch)
    return deleted


def _rows_update(
    *, entry: PersonalData, rows: QuerySet, changes: Mapping[str, Any], batch_size: int
) -> int:
    """Write `changes` over the rows in batches, skipping rows that already hold them.

    Skipping done rows is what makes a re-run return zero (anonymised rows may still be the
    subject's, e.g. admin log entries about the account). A replacement that differs on every
    evaluation (a random value, the current time) is never "done"; it is rewritten on each run.
    """
    if not changes:
        return 0  # a legal hold that keeps the rows as they are
    changed_files = [
        f for f in _file_fields(entry.model) if f.name in changes or f.attname in changes
    ]
    manager = entry.model._default_manager
    pending = rows.exclude(_holds(changes))
    if not changed_files and not any(hasattr(v, "resolve_expression") for v in changes.values()):
        # Constants: an updated row holds them, so it leaves `pending` (an expression such as
        # the current time may never be "held", and goes batch by batch by key below).
        return _in_one_statement(
            manager=manager,
            rows=pending,
            batch_size=batch_size,
            change=lambda batch: batch.update(**changes),
        )
    updated = 0
    for batch in _batches(
        pending, batch_size=batch_size, columns=[f.attname for f in changed_files]
    ):
        updated += manager.filter(pk__in=[row[0] for row in batch]).update(**changes)
        _files_delete_on_commit(entry=entry, fields=changed_files, batch=batch)
    return updated


def _holds(changes: Mapping[str, Any]) -> Q:
    """A condition true for rows whose fields already hold the replacement values."""
    condition = Q()
    for name, value in changes.items():
        condition &= Q(**{f"{name}__isnull": True}) if value is None else Q(**{name: value})
    return condition


def _file_fields(model: type[models.Model]) -> list[models.FileField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]


def _files_delete_on_commit(
    *, entry: PersonalData, fields: Sequence[models.FileField], batch: Sequence[tuple]
) -> None:
    """After commit, delete the stored files the batch's rows pointed at (columns 1.. of a row)."""
    for index, field in enumerate(fields, start=1):
        names = [row[index] for row in batch if row[index]]
        if names:
            where = f"{entry.label}.{field.name}"
            transaction.on_commit(
                partial(_files_delete, storage=field.storage, names=names, where=where)
            )


def _files_delete(*, storage: Storage, names: Sequence[str], where: str) -> None:
    """Delete files one by one; a failure is logged and does not stop the others (the rows are
    already gone, so there is nothing to roll back)."""
    for name in names:
        try:
            storage.delete(name)
        except Exception:
            # The name is not logged: an uploaded file's name can itself be personal data.
            logger.exception("Could not delete a stored file of %s after erasure", where)


# --- Verification ---------------------------------------------------------------------------------

# Column types searched as text; the others in this set are cast to text first.
_TEXT_COLUMNS = frozenset({"CharField", "TextField", "SlugField", "FileField", "FilePathField"})
_CAST_COLUMNS = frozenset({"JSONField", "GenericIPAddressField"})


def personal_data_leftovers(*, needles: Iterable[str]) -> list[tuple[str, str, int]]:
    """(model label, field, rows) for every text-like column, in every model of every installed
    app, that holds any of `needles` (case-insensitive substring).

    For checking an erasure: search for what identified the person (email, name, phone). Registered
    or not, every model is searched, since missed data hides where nobody declared it. One query
    per model, counting each column's hits with a filtered COUNT.
    """
    needles = sorted({n for n in needles if n and n.strip()})
    if not needles:
        return []
    leftovers: list[tuple[str, str, int]] = []
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        columns = [f for f in model._meta.concrete_fields if _searchable(f)]
        if not columns:
            continue
        counts = model._base_manager.aggregate(
            **{
                f"hits_{i}": Count("pk", filter=_contains_any(field, needles))
                for i, field in enumerate(columns)
            }
        )
        leftovers += [
            (model._meta.label, field.name, counts[f"hits_{i}"])
            for i, field in enumerate(columns)
            if counts[f"hits_{i}"]
        ]
    return leftovers


def _searchable(field: models.Field) -> bool:
    return field.get_internal_type() in _TEXT_COLUMNS | _CAST_COLUMNS


def _contains_any(field: models.Field, needles: Sequence[str]) -> Q:
    text = F(field.attname)
    if field.get_internal_type() in _CAST_COLUMNS:
        text = Cast(field.attname, output_field=TextField())
    condition = Q()
    for needle in needles:
        condition |= Q(IContains(text, needle))
    return condition
