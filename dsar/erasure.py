"""Erasure: remove everything held about a subject, generically over the personal-data registry.

Each registered model is handled by its declared strategy, in `erase_order` (rows that point at
others go before the rows they point at):

- DELETE: one set-based DELETE for all the rows; where files must go too, or Django must follow
  cascades, in batches: a SELECT of the keys, then the DELETE of those keys;
- ANONYMISE: the declared replacements are written with one set-based UPDATE (in keyed batches
  where they are expressions);
- LEGAL_HOLD: rows are kept; a statutory record (an invoice) keeps only the fields the law
  requires and blanks every other column, a detached record has its `detach_fields` set to
  None/"" so it no longer points at the person (`PersonalData.blanked_fields`).

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
import os
import signal
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any

from django.apps import apps
from django.core.files.storage import Storage
from django.db import models, transaction
from django.db.models import Count, F, Max, Q, QuerySet, TextField, signals
from django.db.models.functions import Cast
from django.db.models.lookups import IContains

from dsar import registry
from dsar.app_settings import app_settings
from dsar.registry import ErasureStrategy, PersonalData, Subject, values_in

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 1000
DEFAULT_CHUNK_SIZE = 5000  # subjects per condition in a bulk erasure


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
    with one condition (`PersonalData.rows_for_many`: `user_field = ANY(…)` OR the
    case-insensitive email match against the chunk's addresses, each list one parameter) and
    applies its strategy: one statement, or keyed batches of `batch_size` rows where files or
    cascades need the keys. So the statements sent grow with chunks and row batches, never with
    the number of subjects. Entries found by a `subject_rows` function use their `subjects_rows`
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
        holding = {entry.label for entry in registry.entries_holding(chosen, chunk)}
        for entry in chosen:
            if entry.label in holding:
                with transaction.atomic():
                    counts[entry.label] += _erase_entry(
                        entry=entry, subjects=chunk, batch_size=batch_size
                    )
            _test_interruption(entry)
    return counts


def _test_interruption(entry: PersonalData) -> None:
    """The tests' interruption point: with DSAR_ERASURE_TEST_KILL_AFTER set to this entry's
    label (test settings only), the process SIGKILLs itself once the entry's step committed,
    exactly as a worker dying between two registry steps. A real signal, not a mock, so it also
    works where a test cannot hold a row lock to stop the worker (SQLite)."""
    if app_settings.ERASURE_TEST_KILL_AFTER and entry.label == app_settings.ERASURE_TEST_KILL_AFTER:
        logger.warning("Killing this process after %s (DSAR_ERASURE_TEST_KILL_AFTER)", entry.label)
        os.kill(os.getpid(), signal.SIGKILL)


def erasure_holds(
    *, subjects: Sequence[Subject], categories: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """What the legal holds will keep (or keep) of `subjects`: one item per held model with
    rows of theirs, saying what is kept, why and until when. Nothing about the person is in it
    (labels, field names, reasons, dates, counts), so it is stored on the erasure's own row and
    told to the person before and after the erasure.

    `until` is the latest hold-until date of the rows (ISO date) for a statutory record, else
    None (the period in words says it); `identifies` is whether what is kept still names the
    person (never "detached" then)."""
    wanted = set(categories) if categories is not None else None
    holds = []
    for entry in registry.entries():
        if entry.erasure != ErasureStrategy.LEGAL_HOLD:
            continue
        if wanted is not None and entry.category not in wanted:
            continue
        rows = entry.rows_for_many(list(subjects))
        count = rows.count()
        if not count:
            continue
        until = None
        if entry.hold_until_field:
            latest = rows.aggregate(until=Max(entry.hold_until_field))["until"]
            until = latest.isoformat()[:10] if latest else None
        meta = entry.model._meta
        holds.append(
            {
                "model": entry.label,
                "category": entry.category,
                "name": str(meta.verbose_name_plural),
                "rows": count,
                "fields": [str(meta.get_field(name).verbose_name) for name in entry.hold_fields],
                "identifies": bool(entry.hold_fields),
                # A statutory record keeps only `fields`; a detached one keeps other columns
                # too, none of them about the person.
                "only_these": entry.hold_until_field is not None,
                "reason": entry.legal_hold_reason,
                "period": entry.hold_period,
                "until": until,
            }
        )
    return holds


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

    The keys are read once, in one statement, then worked a batch at a time, so rows changed by
    one batch cannot shift the next. Read batch by batch instead (`pk > last ORDER BY pk LIMIT
    n`), PostgreSQL walked the primary key and tested every row against the chunk's thousands of
    ids and addresses: 3 s a batch for the email addresses of 5,000 subjects (bench/NOTES.md);
    in one statement it uses the indexes on those columns. What is held is keys (and file
    names) of one model's rows of one chunk of subjects.
    """
    found = list(rows.order_by("pk").values_list("pk", *columns))
    for start in range(0, len(found), batch_size):
        yield found[start : start + batch_size]


def _deletes_in_one_statement(model: type[models.Model]) -> bool:
    """Whether `QuerySet.delete()` of the model is one DELETE with nothing to load first: no
    other model points at it, it has no many-to-many, generic relation or parent table of its
    own, and nobody listens to its delete signals (what Django checks before a "fast delete")."""
    meta = model._meta
    pointing_here = [  # reverse relations, hidden ones ("+") included
        f for f in meta.get_fields(include_hidden=True) if f.auto_created and not f.concrete
    ]
    return not (
        pointing_here
        or meta.many_to_many
        or meta.private_fields
        or meta.parents
        or signals.pre_delete.has_listeners(model)
        or signals.post_delete.has_listeners(model)
    )


def _rows_delete(*, entry: PersonalData, rows: QuerySet, batch_size: int) -> int:
    """Delete the rows; their files go once the transaction commits.

    Rows that Django can delete in one statement (no files, no cascades, no signals) go in one
    DELETE, as in hand-written SQL: batches inside the model's one transaction would bound
    nothing, and each batch re-read the rows the previous ones had deleted. Others go in keyed
    batches of `batch_size`: their files must be read, or Django loads the rows to cascade."""
    file_fields = _file_fields(entry.model)
    if not file_fields and _deletes_in_one_statement(entry.model):
        return rows.delete()[1].get(entry.label, 0)
    manager = entry.model._default_manager
    deleted = 0
    for batch in _batches(rows, batch_size=batch_size, columns=[f.attname for f in file_fields]):
        per_model = manager.filter(values_in("pk", [row[0] for row in batch])).delete()[1]
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
        # Constants: one UPDATE of every pending row (an expression such as the current time
        # may never be "held", so it goes batch by batch by key below).
        return pending.update(**changes)
    updated = 0
    for batch in _batches(
        pending, batch_size=batch_size, columns=[f.attname for f in changed_files]
    ):
        updated += manager.filter(values_in("pk", [row[0] for row in batch])).update(**changes)
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
