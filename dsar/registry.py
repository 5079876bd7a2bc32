"""The personal-data registry: the one place that says what each model holds about people.

Every model of every installed app is either registered here with `personal_data(...)` or marked
with `no_personal_data(...)`; the system check in `dsar.checks` fails on a model that is neither.
Access reports, portability exports, erasure, restriction and retention are all generic over it.

Apps register their models from `AppConfig.ready()` (through a `personal_data.py` module next to
their `models.py`); `dsar` itself imports no other app.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.apps import apps
from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connection, models
from django.db.models import F, Lookup, Q, QuerySet
from django.db.models.functions import Cast, Upper
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

# The category of Part II's service data (records people keep about their own customers or
# employees). Service-data export and deletion requests cover this category only.
SERVICE_DATA_CATEGORY = gettext_noop("Service data")


class Source(models.TextChoices):
    PROVIDED = "provided", _("You provided it")
    AUTOMATIC = "automatic", _("Collected automatically")
    THIRD_PARTY = "third_party", _("Received from a third party")


class ErasureStrategy(models.TextChoices):
    DELETE = "delete", _("Deleted")
    ANONYMISE = "anonymise", _("Anonymised field by field")
    LEGAL_HOLD = "legal_hold", _("Kept under a legal hold")


@dataclass(frozen=True)
class Subject:
    """A data subject: an account holder (user_id) and/or a person known only by an email."""

    user_id: int | None = None
    email: str = ""

    def __post_init__(self):
        if self.user_id is None and not self.email:
            raise ValueError("A subject needs a user id or an email address.")

    @property
    def ref(self) -> str:
        """A pseudonymous reference for logs: never the email itself."""
        if self.user_id is not None:
            return f"user:{self.user_id}"
        import hashlib

        return "email:" + hashlib.sha256(self.email.casefold().encode()).hexdigest()[:16]


@dataclass(frozen=True)
class PersonalData:
    """What one model holds about people, and how each right applies to it."""

    model: type[models.Model]
    # The heading people read in their report (marked with gettext_noop, translated when shown).
    # Why, how long and who receives it are the words of the entry's activities, edited by
    # officers (ProcessingActivity): the code keeps only what is technical.
    category: str
    source: Source
    export_fields: tuple[str, ...]
    erasure: ErasureStrategy
    # How to find a subject's rows: field paths compared with Subject.user_id and Subject.email.
    user_field: str | None = None
    email_field: str | None = None
    # Or a function for rows that cannot be found by a field path (it wins over the two above).
    subject_rows: Callable[[Subject], QuerySet] | None = None
    # With subject_rows, required: the rows of many subjects at once, as one condition (bulk
    # erasure), matching exactly the union of subject_rows(s).
    subjects_rows: Callable[[Sequence[Subject]], QuerySet] | None = None
    # ANONYMISE: field -> replacement: a constant or a Django expression (F, Value, Concat...),
    # applied in one set-based UPDATE. Callables are refused: they would need a query per row.
    anonymise: Mapping[str, Any] = field(default_factory=dict)
    # LEGAL_HOLD: why (the law, in words), how long (in words), and what is kept. Two forms:
    # - a statutory record (`hold_until_field` set, e.g. invoices): `hold_fields` are the fields
    #   the law requires, kept as they are; every other column is blanked on erasure, and the
    #   row carries the date it may go (`hold_until_field`), after which the retention sweep
    #   deletes it;
    # - a detached record (e.g. the request itself): `detach_fields` are set to None/"" so the
    #   kept row no longer points at the person; `hold_fields` names whatever about the person
    #   still remains for the period (often nothing).
    # Either way the person is told exactly what is kept, why and until when (`erasure_holds`).
    legal_hold_reason: str = ""
    detach_fields: tuple[str, ...] = ()
    hold_fields: tuple[str, ...] = ()
    hold_period: str = ""
    hold_until_field: str | None = None
    # Retention sweeps: rows whose `retention_field` is older than `retention_period` are erased.
    retention_field: str | None = None
    retention_period: timedelta | None = None
    # The processing activity this data serves: the code of a `dsar.ProcessingActivity` row,
    # where its lawful basis, recipients, transfers and measures are (docs/activities.md). The
    # system check dsar.E004 fails on an entry with none, or with a code that has no row.
    activity: str = ""
    # Fields that serve another activity than the model's (field name -> activity code), e.g. a
    # user's security question serves sign-in security, not the account. Checked like `activity`.
    field_activities: Mapping[str, str] = field(default_factory=dict)
    # Erasure order: lower runs first (rows that point at others before the rows they point at).
    erase_order: int = 50
    # False where the primary key is itself a secret (a session key): exports leave it out.
    export_row_id: bool = True
    # Rectification: fields a person may ask an officer to correct, and the owning app's function
    # that applies an approved correction through its services: rectify(subject, field, value).
    rectifiable_fields: tuple[str, ...] = ()
    rectify: Callable[[Subject, str, str], None] | None = None
    # Export fields whose stored value means nothing to a person (a foreign key's id, a code):
    # field name -> a function called once per export that returns `value -> words`, so a
    # lookup costs one query per export, not one per row. Every export format uses it.
    export_words: Mapping[str, Callable[[], Callable[[Any], Any]]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.model._meta.label

    @property
    def activity_codes(self) -> tuple[str, ...]:
        """The activities this data serves: the model's, then its fields' (distinct, in order)."""
        return tuple(dict.fromkeys((self.activity, *self.field_activities.values())))

    def rows_for(self, subject: Subject) -> QuerySet:
        if self.subject_rows is not None:
            return self.subject_rows(subject)
        condition = Q()
        if self.user_field and subject.user_id is not None:
            condition |= Q(**{self.user_field: subject.user_id})
        if self.email_field and subject.email:
            condition |= Q(**{f"{self.email_field}__iexact": subject.email})
        if not condition:
            return self.model._default_manager.none()
        return self.model._default_manager.filter(condition)

    def rows_for_many(self, subjects: Sequence[Subject]) -> QuerySet:
        """The rows of any of `subjects`, as one queryset (one condition for all of them).

        Matches exactly the union of `rows_for(s)`: user ids with `user_field = ANY(…)`,
        addresses with `UPPER(email_field) = ANY(…)` — the database upper-cases both sides, as
        `__iexact` does (`email_in`). One subject gives `rows_for` itself (the same SQL).
        """
        subjects = list(subjects)
        if len(subjects) == 1:
            return self.rows_for(subjects[0])
        manager = self.model._default_manager
        if not subjects:
            return manager.none()
        if self.subject_rows is not None:
            return self.subjects_rows(subjects)
        condition = Q()
        user_ids = sorted({s.user_id for s in subjects if s.user_id is not None})
        emails = sorted({s.email for s in subjects if s.email})
        if self.user_field and user_ids:
            condition |= values_in(self.user_field, user_ids)
        if self.email_field and emails:
            condition |= email_in(self.email_field, emails)
        if not condition:
            return manager.none()
        return manager.filter(condition)

    def anonymise_values(self) -> dict[str, Any]:
        """ANONYMISE: the replacements, checked: constants and Django expressions only. A callable
        would need the row, so one query per row; it is a mistake in the declaration."""
        for name, value in self.anonymise.items():
            if callable(value):
                raise RegistryError(
                    f"{self.label}: anonymise[{name!r}] is a callable; use a constant or a Django "
                    "expression (F, Value, Concat...) so that anonymising stays set-based"
                )
        return dict(self.anonymise)

    def blanked_fields(self) -> tuple[str, ...]:
        """LEGAL_HOLD: the fields erasure blanks. A statutory record keeps only `hold_fields`
        (and its hold-until date): every other column is blanked. A detached record blanks its
        `detach_fields`."""
        if self.hold_until_field is None:
            return self.detach_fields
        kept = {*self.hold_fields, self.hold_until_field}
        return tuple(
            f.name
            for f in self.model._meta.concrete_fields
            if not f.primary_key and f.name not in kept and f.attname not in kept
        )

    def detach_values(self) -> dict[str, Any]:
        """LEGAL_HOLD: the value each blanked field gets so the kept row no longer points at the
        person: None where the column is nullable, else "" for text. Anything else cannot be
        blanked, which is a mistake in the declaration (keep it, or make it nullable)."""
        values = {}
        for name in self.blanked_fields():
            model_field = self.model._meta.get_field(name)
            if model_field.null:
                values[model_field.attname] = None
            elif model_field.get_internal_type() in _TEXT_TYPES:
                values[model_field.attname] = ""
            else:
                raise RegistryError(
                    f"{self.label}.{name} cannot be detached: make it nullable or text"
                )
        return values


class AnyOf(Lookup):
    """`lhs` equals one of `values`, with the values sent as ONE parameter: `lhs = ANY(%s)` with
    an array on PostgreSQL, `lhs IN (SELECT value FROM json_each(%s))` on SQLite.

    The form of `__in` for the long lists of bulk erasure: `IN (%s, %s, …)` made Django prepare
    and psycopg place every value of every list, which cost more than the statements themselves
    (bench/NOTES.md, erasure). PostgreSQL still sees the values (a constant array), so it
    estimates the list and probes the indexes as it did for the IN list."""

    lookup_name = "any_of"  # built directly, not registered on fields
    prepare_rhs = False

    def __init__(self, lhs, values: Iterable):
        super().__init__(lhs, list(values))

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*params, self.rhs]
        # The left side is compiled SQL and the values a parameter: nothing from outside.
        sql = f"{lhs} IN (SELECT value FROM json_each(%s))"  # noqa: S608
        return sql, [*params, json.dumps(self.rhs)]


def values_in(field_path: str, values: Iterable) -> Q:
    """`Q(field_path__in=values)` for long lists: one parameter, not one per value (`AnyOf`)."""
    return Q(AnyOf(F(field_path), values))


def email_in(field_path: str, emails: Sequence[str]) -> Q:
    """`field_path` equals any of `emails`, case-insensitively, in one condition: the set-based
    form of `Q(field__iexact=e1) | Q(field__iexact=e2) | …` (the database upper-cases both
    sides, as `__iexact` does).

    The addresses are upper-cased by the database (its rules), once per list, and go into the
    query as a constant (`AnyOf`): the planner then estimates them from the UPPER(email)
    indexes. Given as a subquery (`IN (SELECT UPPER(e) FROM unnest(…))`), it had to guess,
    guessed many rows and scanned whole tables (bench/NOTES.md, erasure)."""
    upper = _upper_in_database(tuple(sorted(set(emails))))
    return Q(AnyOf(Upper(Cast(field_path, output_field=models.TextField())), upper))


def entries_holding(entries: Sequence[PersonalData], subjects: Sequence[Subject]) -> list:
    """The entries that hold any row of `subjects`, in order: one statement for all of them,
    `SELECT EXISTS (rows of entry 1), EXISTS (rows of entry 2), …`, so that the entries holding
    nothing cost no statement (and no transaction) each. A row written after this check is left
    out, as a row written after its entry was read or erased always was.

    Only for one subject, whose probes are index lookups by equality. For a chunk of many, an
    EXISTS over hundreds of ids and addresses (`user = ANY(…) OR UPPER(email) = ANY(…)`)
    expects an early hit and PostgreSQL reads the table (or a whole index) in order, all of it
    when the subjects' rows are the newest: 3 s for one probe among a million accounts, also
    with sequential scans off. Probing each condition apart, or through a MATERIALIZED CTE,
    was safe but cost what it saved (bench/NOTES.md, erasure); the entries' own statements
    scan the indexes. A single entry is simply read: the probe would cost as much as it
    saves."""
    if len(entries) < 2 or len(subjects) > 1:
        return list(entries)
    probes: list[tuple[PersonalData, str]] = []
    params: list = []
    for entry in entries:
        rows = entry.rows_for_many(subjects)
        try:
            sql, row_params = rows.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:  # a condition that matches nothing (e.g. `pk__in=[]`)
            continue
        probes.append((entry, f"EXISTS ({sql})"))
        params += row_params
    if not probes:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(probe for _entry, probe in probes), params)
        held = cursor.fetchone()
    return [entry for (entry, _probe), holds in zip(probes, held, strict=True) if holds]


@lru_cache(maxsize=32)
def _upper_in_database(emails: tuple[str, ...]) -> list[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT UPPER(e) FROM unnest(%s::text[]) AS e", [list(emails)])
        else:
            cursor.execute("SELECT UPPER(value) FROM json_each(%s)", [json.dumps(emails)])
        return [row[0] for row in cursor.fetchall()]


_registry: dict[str, PersonalData] = {}
_no_personal_data: dict[str, str] = {}


class RegistryError(Exception):
    pass


# Internal types whose columns hold text, so that "" is a value they can take.
_TEXT_TYPES = frozenset({"CharField", "TextField", "SlugField", "FileField", "FilePathField"})


def _check_fields(entry: PersonalData) -> None:
    names = {f.name for f in entry.model._meta.get_fields()} | {
        f.attname for f in entry.model._meta.concrete_fields
    }
    hold_until = (entry.hold_until_field,) if entry.hold_until_field else ()
    for name in (
        *entry.export_fields,
        *entry.anonymise,
        *entry.detach_fields,
        *entry.hold_fields,
        *hold_until,
    ):
        if name not in names:
            raise RegistryError(f"{entry.label} has no field {name!r}")
    columns = {f.name for f in entry.model._meta.concrete_fields} | {
        f.attname for f in entry.model._meta.concrete_fields
    }
    for name in entry.export_words:
        if name not in entry.export_fields:
            raise RegistryError(f"{entry.label}: export_words names {name!r}, not exported")
    for name in entry.export_fields:
        if name not in columns:
            # Exports write one flat record per row; a to-many relation has no single value.
            raise RegistryError(f"{entry.label}: export field {name!r} is not a column")
    entry.anonymise_values()
    entry.detach_values()
    if entry.erasure == ErasureStrategy.LEGAL_HOLD:
        if not entry.legal_hold_reason:
            raise RegistryError(f"{entry.label}: a legal hold needs its reason")
        if not entry.hold_period:
            raise RegistryError(f"{entry.label}: a legal hold says how long it keeps the rows")
        if entry.hold_until_field:
            if entry.detach_fields:
                raise RegistryError(
                    f"{entry.label}: a statutory record keeps its hold_fields and blanks every "
                    "other column; it declares no detach_fields"
                )
            until = entry.model._meta.get_field(entry.hold_until_field)
            if until.get_internal_type() not in ("DateField", "DateTimeField"):
                raise RegistryError(f"{entry.label}.{until.name}: a hold-until date is a date")
    elif entry.hold_fields or entry.hold_until_field or entry.hold_period:
        raise RegistryError(f"{entry.label}: hold fields belong to a legal hold only")
    if entry.erasure == ErasureStrategy.ANONYMISE and not entry.anonymise:
        raise RegistryError(f"{entry.label}: anonymising needs the fields to anonymise")
    if entry.rectifiable_fields and entry.rectify is None:
        raise RegistryError(f"{entry.label}: rectifiable fields need a rectify function")
    for name in (*entry.rectifiable_fields, *entry.field_activities):
        if name not in names:
            raise RegistryError(f"{entry.label} has no field {name!r}")
    if not (entry.subject_rows or entry.user_field or entry.email_field):
        raise RegistryError(f"{entry.label}: say how a subject's rows are found")
    if (entry.subject_rows is None) != (entry.subjects_rows is None):
        # Many subjects' rows as one condition (erasure in bulk): OR-ing one queryset per
        # subject copies the whole condition each time, quadratic in the number of subjects.
        raise RegistryError(f"{entry.label}: subject_rows and subjects_rows go together")


def personal_data(model: type[models.Model], **declaration) -> PersonalData:
    """Register a model that holds personal data. Registering the same model twice is an error."""
    entry = PersonalData(model=model, **declaration)
    _check_fields(entry)
    label = model._meta.label
    if label in _registry or label in _no_personal_data:
        raise RegistryError(f"{label} is already in the personal-data registry")
    _registry[label] = entry
    return entry


def no_personal_data(model: type[models.Model] | str, *, reason: str) -> None:
    """Mark a model as holding nothing about any person, with the reason."""
    label = model if isinstance(model, str) else model._meta.label
    if label in _registry or label in _no_personal_data:
        raise RegistryError(f"{label} is already in the personal-data registry")
    _no_personal_data[label] = reason


def entries() -> list[PersonalData]:
    return sorted(_registry.values(), key=lambda e: (e.erase_order, e.label))


def entry_for(model: type[models.Model]) -> PersonalData | None:
    return _registry.get(model._meta.label)


def unaccounted_models() -> list[str]:
    """Models that are neither registered nor marked: each one fails the system check."""
    known = _registry.keys() | _no_personal_data.keys()
    return sorted(
        m._meta.label
        for m in apps.get_models(include_auto_created=False)
        if m._meta.label not in known and not m._meta.proxy
    )


def rectifiable_choices() -> list[tuple[str, str]]:
    """(value, label) pairs "<model label>.<field>" for the fields a person may ask to correct."""
    choices = []
    for entry in entries():
        for name in entry.rectifiable_fields:
            field_ = entry.model._meta.get_field(name)
            choices.append((f"{entry.label}.{name}", f"{entry.category}: {field_.verbose_name}"))
    return choices


def entry_by_label(label: str) -> PersonalData | None:
    return _registry.get(label)


def rectification_field(target: str) -> tuple[PersonalData, models.Field] | None:
    """The registry entry and model field a rectification target ("<model label>.<field>")
    names, or None when it is not a field a person may ask to correct."""
    label, _dot, name = target.rpartition(".")
    entry = _registry.get(label)
    if entry is None or entry.rectify is None or name not in entry.rectifiable_fields:
        return None
    return entry, entry.model._meta.get_field(name)


def rectification_value_clean(target: str, value: str) -> str:
    """Check a proposed correction the way the owning model's form would: its form field
    (`formfield()`: a date is a real date, a country one of the list, a phone number a number)
    and the model field's own validators. Returns the value as stored (normalised text, as
    `to_python` reads it back); raises ValidationError with the field's own messages."""
    found = rectification_field(target)
    if found is None:
        raise ValidationError(_("Choose a field from the list."), code="invalid_choice")
    _entry, model_field = found
    cleaned = model_field.formfield().clean(value.strip())
    python_value = model_field.to_python(cleaned)
    if python_value in model_field.empty_values:
        raise ValidationError(_("Give the correct value."), code="required")
    model_field.run_validators(python_value)
    return str(python_value)


def rectification_value_display(target: str, value) -> str:
    """A stored or current value in words: the choice's label where the field has choices."""
    found = rectification_field(target)
    if value in (None, ""):
        return "—"
    if found is not None and found[1].flatchoices:
        return str(dict(found[1].flatchoices).get(value, value))
    return str(value)


def entries_for_activity(code: str) -> list[PersonalData]:
    """The entries whose model serves the activity `code`."""
    return [e for e in entries() if e.activity == code]


def fields_for_activity(code: str) -> list[tuple[PersonalData, list[str]]]:
    """(entry, exported fields) serving the activity `code`: the fields of its own models, less
    those that serve another activity, and the fields of other models declared for it."""
    found = []
    for entry in entries():
        own = entry.activity == code
        names = [
            name
            for name in entry.export_fields
            if entry.field_activities.get(name, entry.activity if own else None) == code
        ]
        if names:
            found.append((entry, names))
    return found


def categories() -> Iterable[str]:
    return sorted({e.category for e in _registry.values()})
