"""The access report and the portability package: everything held about a subject, per category.

Both exporters are generic over the personal-data registry and share one walk over the data
(`_walk`): categories in order, the models of each category, and each model's rows for the subject,
streamed from the database in chunks (`QuerySet.iterator(chunk_size=...)`). Every row goes straight
to the writers ("sinks") that were given to the walk, which render it in Python (the json module,
`html.escape`), so memory stays flat however many rows a person has, and the number of queries grows
with the number of models and chunks, never with the number of rows. One code path, the same on
every database Django supports.

The engines only read and write files. Recording the export in the audit log, and deciding who may
see it, is the job of the service that calls them (it knows the actor and the reason).
"""

from __future__ import annotations

import base64
import csv
import datetime
import decimal
import hashlib
import io
import json
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from html import escape as html_escape
from typing import IO, Any, Protocol

from django.db import models
from django.utils import timezone, translation
from django.utils.duration import duration_iso_string
from django.utils.html import escape
from django.utils.text import capfirst, slugify
from django.utils.translation import gettext as _
from phonenumber_field.modelfields import PhoneNumberField

from dsar import registry
from dsar.models import ProcessingActivity
from dsar.registry import PersonalData, Source, Subject
from dsar.request_parts import ExportSection

ACCESS_REPORT_SCHEMA = "workpex-access-report/2"
PORTABILITY_SCHEMA_VERSION = "1"
REDACTED = "[redacted]"
# Rows fetched per round trip. Large enough to keep round trips few, small enough that a chunk of
# rows is a negligible amount of memory.
EXPORT_CHUNK_SIZE = 2000

Redactions = Mapping[str, Mapping[str, Iterable[str]]]


# --- What is exported: categories, columns and values --------------------------------------------


@dataclass(frozen=True)
class Category:
    """One data category, the registered models that hold data in it, and the processing
    activities they serve: why the data is held, how long and who receives it are the activities'
    words (officers edit them, in every language), never the code's."""

    name: str
    entries: tuple[PersonalData, ...]
    activities: tuple[ProcessingActivity, ...] = ()

    @property
    def title(self) -> str:
        """The heading in the reader's language (the names are marked with gettext_noop)."""
        return _(self.name)

    @property
    def sources(self) -> list[str]:
        return _distinct(str(Source(e.source).label) for e in self.entries)

    @property
    def purposes(self) -> list[str]:
        return _distinct(a.description for a in self.activities)

    @property
    def lawful_bases(self) -> list[str]:
        return _distinct(
            str(a.get_lawful_basis_display()) for a in self.activities if a.lawful_basis
        )

    @property
    def retentions(self) -> list[str]:
        return _distinct(a.retention for a in self.activities)

    @property
    def recipients(self) -> list[str]:
        return _distinct(line for a in self.activities for line in a.recipient_list)

    @property
    def field_names(self) -> list[str]:
        """The union of the export fields of the category's models, in declaration order."""
        return _distinct(name for e in self.entries for name in e.export_fields)

    def description(self) -> dict[str, Any]:
        """The category's header in the JSON documents: the joined words of its activities, each
        activity as it is, and which activities each model serves."""
        return {
            "category": self.name,
            "title": self.title,
            "source": "; ".join(self.sources),
            "purpose": " ".join(self.purposes),
            "retention": " ".join(self.retentions),
            "recipients": self.recipients,
            "activities": [
                {
                    "code": a.code,
                    "name": a.name,
                    "lawful_basis": str(a.get_lawful_basis_display()),
                    "purpose": a.description,
                    "retention": a.retention,
                    "recipients": a.recipient_list,
                }
                for a in self.activities
            ],
            "models": [
                {
                    "model": e.label,
                    "name": str(capfirst(e.model._meta.verbose_name_plural)),
                    "source": str(Source(e.source).label),
                    "activities": list(e.activity_codes),
                }
                for e in self.entries
            ],
        }


def _distinct(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def export_categories(only: Iterable[str] | None = None) -> list[Category]:
    """Every category of the registry (or those named in `only`), in name order, each with its
    models in label order and their activities (one query), in the active language."""
    wanted = set(only) if only is not None else None
    by_name: dict[str, list[PersonalData]] = {}
    for entry in sorted(registry.entries(), key=lambda e: e.label):
        if wanted is not None and entry.category not in wanted:
            continue
        by_name.setdefault(entry.category, []).append(entry)
    codes = {code for entries in by_name.values() for e in entries for code in e.activity_codes}
    rows = {a.code: a for a in ProcessingActivity.objects.filter(code__in=codes)}
    categories = []
    for name in sorted(by_name):
        entries = tuple(by_name[name])
        used = dict.fromkeys(code for e in entries for code in e.activity_codes)
        # dsar.E004 fails on a code with no row; a report never breaks on one.
        activities = tuple(rows[code] for code in used if code in rows)
        categories.append(Category(name, entries, activities))
    return categories


def export_columns(entry: PersonalData) -> list[tuple[str, models.Field]]:
    """(exported name, model field) for each export field of an entry, in declaration order."""
    return [(name, entry.model._meta.get_field(name)) for name in entry.export_fields]


def export_value(field: models.Field, value: Any) -> Any:
    """A column's value as plain JSON data, the same in every export format.

    Values come from `values_list`, so they are what the database holds: a file field's stored
    name, a country's code, a choice's stored value. Phone numbers are E.164, dates and times
    ISO 8601, and decimals strings so that no precision is lost.
    """
    if isinstance(field, models.FileField):
        return value or ""
    if isinstance(field, PhoneNumberField) and value:
        number = field.to_python(value)  # stored as E.164 unless PHONENUMBER_DB_FORMAT says not
        return number.as_e164 if number.is_valid() else str(value)
    if value is None or isinstance(value, bool | int | float | str | dict | list):
        return value
    if isinstance(value, datetime.date | datetime.time):  # a datetime is a date too
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return duration_iso_string(value)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


# Field types whose values come from `values_list` as what export_value gives back unchanged
# (str, int, bool or None). Exact types: a subclass (a phone number, a country) may convert.
_AS_IS = frozenset(
    {
        models.AutoField,
        models.BigAutoField,
        models.BigIntegerField,
        models.BooleanField,
        models.CharField,
        models.EmailField,
        models.IntegerField,
        models.PositiveIntegerField,
        models.PositiveSmallIntegerField,
        models.SlugField,
        models.SmallIntegerField,
        models.TextField,
        models.URLField,
    }
)
_ISO = frozenset({models.DateTimeField, models.DateField})


def _isoformat(value: Any) -> Any:
    return None if value is None else value.isoformat()


def _as_is(value: Any) -> Any:
    return value


def export_converter(field: models.Field):
    """`export_value` for one column, chosen once per column instead of once per value: the
    same result, without the chain of type checks for every value of a large export."""
    if type(field) in _AS_IS:
        return _as_is
    if type(field) in _ISO:
        return _isoformat
    return lambda value: export_value(field, value)


def export_entry_converters(entry: PersonalData) -> list[Callable[[Any], Any]]:
    """The converter of each export column of an entry, in `export_columns` order: the entry's
    own `export_words` where it names the field (purposes and versions in words), else the
    generic `export_converter`. Build once per export: a words function may query once."""
    return [
        entry.export_words[name]() if name in entry.export_words else export_converter(f)
        for name, f in export_columns(entry)
    ]


def _redactions_check(redactions: Redactions) -> dict[str, dict[str, set[str]]]:
    """Normalise redactions, refusing unknown models and fields before anything is written: a
    typo in a redaction must not let someone else's data through unnoticed."""
    exported = {e.label: set(e.export_fields) for e in registry.entries()}
    checked: dict[str, dict[str, set[str]]] = {}
    for label, rows in redactions.items():
        if label not in exported:
            raise ValueError(f"Redaction for {label}, which holds no exported personal data.")
        checked[label] = {}
        for pk, names in rows.items():
            names = {names} if isinstance(names, str) else set(names)
            if unknown := names - exported[label]:
                raise ValueError(f"Redaction of {label} {pk}: no exported field {sorted(unknown)}.")
            checked[label][str(pk)] = names
    return checked


@dataclass(frozen=True)
class Record:
    """One exported row: its model label, primary key and exported values by field name."""

    model: str
    id: Any
    fields: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"model": self.model, "id": self.id, "fields": self.fields}


def export_records(
    *,
    entry: PersonalData,
    subject: Subject,
    redactions: Redactions | None = None,
    chunk_size: int = EXPORT_CHUNK_SIZE,
) -> Iterator[Record]:
    """The subject's rows of one registered model as records, read in chunks of `chunk_size`.

    `redactions` maps model label -> {str(pk): field names}: those values become "[redacted]"
    (an officer removes other people's data from the package).
    """
    for _pk, record in _records(
        entry=entry, subject=subject, redactions=redactions, chunk_size=chunk_size
    ):
        yield record


def _records(
    *,
    entry: PersonalData,
    subject: Subject,
    redactions: Redactions | None = None,
    chunk_size: int = EXPORT_CHUNK_SIZE,
    pks: Sequence[Any] | None = None,
) -> Iterator[tuple[Any, Record]]:
    """(primary key, record) for the subject's rows of one model; only those in `pks` if given."""
    columns = export_columns(entry)
    names = [name for name, _field in columns]
    converters = export_entry_converters(entry)
    row_id = export_converter(entry.model._meta.pk) if entry.export_row_id else lambda pk: None
    redacted = _redactions_check(redactions or {}).get(entry.label, {})
    rows = entry.rows_for(subject)
    if pks is not None:
        rows = rows.filter(pk__in=pks)
    rows = (
        rows.order_by("pk")
        .values_list("pk", *(f.attname for _name, f in columns))
        .iterator(chunk_size=chunk_size)
    )
    # Only the columns whose values need converting are touched per row; the rest pass as read.
    convert = [(i, c) for i, c in enumerate(converters) if c is not _as_is]
    for pk, *values in rows:
        for i, converter in convert:
            values[i] = converter(values[i])
        fields = dict(zip(names, values, strict=True))
        if redacted and (hidden := redacted.get(str(pk))):
            fields.update(dict.fromkeys(hidden & fields.keys(), REDACTED))
        yield pk, Record(entry.label, row_id(pk), fields)


# --- The walk and its sinks ----------------------------------------------------------------------


class Sink(Protocol):
    """A writer the walk feeds, in order: every category, its models, and their records."""

    def category_start(self, category: Category) -> None: ...

    def model_start(self, entry: PersonalData) -> None: ...

    def record(self, record: Record) -> None: ...

    def model_end(self, entry: PersonalData, count: int) -> None: ...

    def category_end(self, category: Category) -> None: ...


def _walk(
    *,
    categories: Sequence[Category],
    subject: Subject,
    sinks: Sequence[Sink],
    redactions: Redactions | None,
    chunk_size: int,
) -> dict[str, int]:
    """Read each model's rows for the subject once and hand every record to every sink.

    Models holding nothing about the subject are found first, with one statement, and not read.
    Returns the number of records per model label.
    """
    redactions = _redactions_check(redactions or {})
    entries = [entry for category in categories for entry in category.entries]
    held = {entry.label for entry in registry.entries_holding(entries, [subject])}
    counts: dict[str, int] = {}
    for category in categories:
        for sink in sinks:
            sink.category_start(category)
        for entry in category.entries:
            for sink in sinks:
                sink.model_start(entry)
            count = 0
            if entry.label in held:
                for record in export_records(
                    entry=entry, subject=subject, redactions=redactions, chunk_size=chunk_size
                ):
                    count += 1
                    for sink in sinks:
                        sink.record(record)
            counts[entry.label] = count
            for sink in sinks:
                sink.model_end(entry, count)
        for sink in sinks:
            sink.category_end(category)
    return counts


# One encoder for every value: json.dumps with options builds a new encoder on each call.
_JSON_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _json(value: Any) -> str:
    return _JSON_ENCODER.encode(value)


class JsonSink:
    """Writes categories as JSON objects with their records, one `json.dumps` per record.

    `prefix` and `suffix` wrap the categories (comma-separated), so the same sink writes both the
    access report (a document holding a list of categories) and a single category's document.
    """

    def __init__(self, out: IO[str], *, prefix: str = "", suffix: str = "") -> None:
        self.out = out
        self.prefix = prefix
        self.suffix = suffix
        self.categories_written = 0
        self.records_written = 0

    def start(self) -> None:
        self.out.write(self.prefix)

    def finish(self) -> None:
        self.out.write(self.suffix)

    def category_start(self, category: Category) -> None:
        header = _json(category.description())
        # Reopen the object to append the records list: the header is small, the records not.
        self.out.write(("," if self.categories_written else "") + header[:-1] + ',"records":[')
        self.categories_written += 1
        self.records_written = 0

    def model_start(self, entry: PersonalData) -> None:
        pass

    def record(self, record: Record) -> None:
        self.out.write(("," if self.records_written else "") + _json(record.as_json()))
        self.records_written += 1

    def model_end(self, entry: PersonalData, count: int) -> None:
        pass

    def category_end(self, category: Category) -> None:
        self.out.write("]}")


def _cell(value: Any) -> str:
    """A JSON-ready value as the text of a CSV or HTML cell."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return _json(value)
    return str(value)


class CsvSink:
    """Writes one category as CSV: a `model` and an `id` column, then the union of the category's
    export fields (empty where a model has no such field), header first."""

    def __init__(self, out: IO[str]) -> None:
        self.writer = csv.writer(out, lineterminator="\r\n")
        self.columns: list[str] = []

    def category_start(self, category: Category) -> None:
        self.columns = category.field_names
        self.writer.writerow(["model", "id", *self.columns])

    def model_start(self, entry: PersonalData) -> None:
        pass

    def record(self, record: Record) -> None:
        values = (_cell(record.fields.get(name)) for name in self.columns)
        self.writer.writerow([record.model, _cell(record.id), *values])

    def model_end(self, entry: PersonalData, count: int) -> None:
        pass

    def category_end(self, category: Category) -> None:
        pass


_HTML_STYLE = (
    "body{font-family:system-ui,sans-serif;line-height:1.5;margin:2rem auto;max-width:72rem;"
    "padding:0 1rem;color:#1a1a1a}table{border-collapse:collapse;margin:0 0 1.5rem;width:100%}"
    "th,td{border:1px solid #767676;padding:.25rem .5rem;text-align:left;vertical-align:top;"
    "overflow-wrap:anywhere}thead th{background:#f0f0f0}dt{font-weight:bold}"
    "dd{margin:0 0 .5rem 1rem}"
)


_CELL_BREAK = "\x00"  # never changed by html.escape; PostgreSQL text cannot hold it


def _escaped(texts: list[str]) -> list[str]:
    """The texts, each escaped by html.escape (what django.utils.html.escape does for a str,
    without its lazy wrapper). It runs once over the texts joined, not once per text; texts
    holding the separator are escaped one by one."""
    joined = _CELL_BREAK.join(texts)
    if joined.count(_CELL_BREAK) != len(texts) - 1:
        return [html_escape(text) for text in texts]
    return html_escape(joined).split(_CELL_BREAK)


class HtmlSink:
    """Writes the access report as one self-contained, accessible HTML page: no scripts, no
    external resources, a heading per category, a description list of its source, purpose,
    retention and recipients, and a table per model. Every value is escaped."""

    def __init__(self, out: IO[str], *, subject: Subject, generated_at: str) -> None:
        self.out = out
        self.subject = subject
        self.generated_at = generated_at
        self.columns: list[tuple[str, models.Field]] = []
        self.names: list[str] = []
        self.rows_written = 0

    def start(self, categories: Sequence[Category]) -> None:
        title = escape(_("Your personal data held by Workpex"))
        language = escape(translation.get_language() or "en")
        # Translated outside the f-strings: makemessages does not read inside them.
        generated = escape(_("Generated at %(time)s for %(subject)s.")) % {
            "time": f'<time datetime="{escape(self.generated_at)}">'
            f"{escape(self.generated_at)}</time>",
            "subject": f"<code>{escape(self.subject.ref)}</code>",
        }
        nav_label = escape(_("Categories"))
        links = "".join(
            f'<li><a href="#{self._anchor(c)}">{escape(c.title)}</a></li>' for c in categories
        )
        self.out.write(
            f'<!DOCTYPE html>\n<html lang="{language}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n<style>{_HTML_STYLE}</style>\n</head>\n<body>\n<main>\n"
            f"<h1>{title}</h1>\n<p>{generated}</p>\n"
            f'<nav aria-label="{nav_label}"><ul>{links}</ul></nav>\n'
        )

    def finish(self) -> None:
        self.out.write("</main>\n</body>\n</html>\n")

    @staticmethod
    def _anchor(category: Category) -> str:
        # A category name without any letter for a slug still needs a stable, unique anchor.
        digest = hashlib.sha256(category.name.encode()).hexdigest()[:8]
        return f"category-{slugify(category.name) or digest}"

    def category_start(self, category: Category) -> None:
        anchor = self._anchor(category)
        about = [
            (_("Where it comes from"), category.sources),
            (_("Why we hold it"), category.purposes),
            (_("On which legal basis"), category.lawful_bases),
            (_("How long we keep it"), category.retentions),
            (_("Who receives it"), category.recipients or [_("Nobody outside Workpex")]),
        ]
        items = "".join(
            f"<dt>{escape(term)}</dt>" + "".join(f"<dd>{escape(v)}</dd>" for v in values)
            for term, values in about
        )
        self.out.write(
            f'<section aria-labelledby="{anchor}">\n'
            f'<h2 id="{anchor}">{escape(category.title)}</h2>\n<dl>{items}</dl>\n'
        )

    def model_start(self, entry: PersonalData) -> None:
        self.columns = export_columns(entry)
        self.names = [name for name, _f in self.columns]
        self.rows_written = 0
        self.out.write(f"<h3>{escape(capfirst(entry.model._meta.verbose_name_plural))}</h3>\n")

    def record(self, record: Record) -> None:
        if not self.rows_written:  # the table starts with its first row: none for no data
            headers = "".join(
                f'<th scope="col">{escape(capfirst(f.verbose_name))}</th>' for _n, f in self.columns
            )
            id_heading = escape(_("ID"))
            self.out.write(
                f'<table>\n<thead><tr><th scope="col">{id_heading}</th>{headers}</tr></thead>'
                "\n<tbody>\n"
            )
        fields = record.fields
        texts = [v if type(v) is str else _cell(v) for v in map(fields.__getitem__, self.names)]
        row_id, *cells = _escaped([_cell(record.id), *texts])
        tds = f"<td>{'</td><td>'.join(cells)}</td>" if cells else ""
        self.out.write(f'<tr><th scope="row">{row_id}</th>{tds}</tr>\n')
        self.rows_written += 1

    def model_end(self, entry: PersonalData, count: int) -> None:
        if count:
            self.out.write("</tbody>\n</table>\n")
        else:
            nothing = escape(_("We hold nothing of this kind about you."))
            self.out.write(f"<p>{nothing}</p>\n")

    def category_end(self, category: Category) -> None:
        self.out.write("</section>\n")


# --- Files: text over binary, with a running checksum --------------------------------------------


class CountingWriter:
    """A text writer over a binary stream: encodes UTF-8 and keeps the SHA-256 and byte count of
    everything written, so a member's checksum is known the moment it is finished. Small writes are
    gathered into blocks first; `flush()` sends what is left. `checksum=False` where nobody asks
    for the checksum (the access report): hashing is a good part of writing a large export."""

    BLOCK = 64 * 1024

    def __init__(self, raw: IO[bytes], *, checksum: bool = True) -> None:
        self.raw = raw
        self.sha256 = hashlib.sha256() if checksum else None
        self.bytes = 0
        self._pending: list[str] = []
        self._pending_size = 0

    def write(self, text: str) -> int:
        # Gathered as text and encoded a block at a time; the block size counts characters.
        self._pending.append(text)
        self._pending_size += len(text)
        if self._pending_size >= self.BLOCK:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self._pending:
            data = "".join(self._pending).encode("utf-8")
            self._pending.clear()
            self._pending_size = 0
            if self.sha256 is not None:
                self.sha256.update(data)
            self.bytes += len(data)
            self.raw.write(data)


def _text_out(file: IO) -> tuple[IO[str], CountingWriter | None]:
    """Accept a text or a binary file; a binary one gets a UTF-8 writer that must be flushed."""
    if isinstance(file, io.TextIOBase):
        return file, None
    if isinstance(file, io.RawIOBase | io.BufferedIOBase) or "b" in getattr(file, "mode", ""):
        writer = CountingWriter(file, checksum=False)
        return writer, writer
    return file, None


# --- The two exporters ---------------------------------------------------------------------------


def access_report_write(
    *,
    subject: Subject,
    json_file: IO,
    html_file: IO,
    redactions: Redactions | None = None,
    chunk_size: int = EXPORT_CHUNK_SIZE,
    categories: Iterable[str] | None = None,
    sections: Sequence[ExportSection] = (),
) -> dict[str, int]:
    """Write the access report: everything held about the subject, per category, with each
    category's source, purpose, retention and recipients, as a JSON document and an HTML page;
    then what other systems hold (`sections`, dsar.request_parts), with each field's categories.

    Both are written as the rows are read, in one pass over the data. The files may be text or
    binary (then UTF-8 is written). Returns the number of records per model label.
    """
    redactions = _redactions_check(redactions or {})
    generated_at = timezone.now().isoformat()
    categories = export_categories(only=categories)
    json_out, json_writer = _text_out(json_file)
    html_out, html_writer = _text_out(html_file)
    header = _json(
        {"schema": ACCESS_REPORT_SCHEMA, "generated_at": generated_at, "subject": subject.ref}
    )
    json_sink = JsonSink(json_out, prefix=header[:-1] + ',"categories":[', suffix="]")
    html_sink = HtmlSink(html_out, subject=subject, generated_at=generated_at)
    json_sink.start()
    html_sink.start(categories)
    counts = _walk(
        categories=categories,
        subject=subject,
        sinks=[json_sink, html_sink],
        redactions=redactions,
        chunk_size=chunk_size,
    )
    json_sink.finish()
    counts |= _sections_write(sections, json_out=json_out, html_out=html_out)
    json_out.write("}\n")
    html_sink.finish()
    for writer in (json_writer, html_writer):
        if writer is not None:
            writer.flush()
    return counts


def _member_stems(categories: Sequence[Category]) -> list[str]:
    """A file-name stem per category: its slug, made unique ("category-N" when it has none)."""
    stems: list[str] = []
    for number, category in enumerate(categories, start=1):
        stem = slugify(category.name) or f"category-{number}"
        candidate, suffix = stem, 2
        while candidate in stems or candidate == "manifest":
            candidate, suffix = f"{stem}-{suffix}", suffix + 1
        stems.append(candidate)
    return stems


def portability_package_write(
    *,
    subject: Subject,
    zip_file: str | IO[bytes],
    redactions: Redactions | None = None,
    chunk_size: int = EXPORT_CHUNK_SIZE,
    categories: Iterable[str] | None = None,
    sections: Sequence[ExportSection] = (),
) -> dict[str, Any]:
    """Write the portability package: a ZIP with a JSON and a CSV file per category, a JSON file
    per other system's collection (`sections`), and a `manifest.json` listing every file with
    its record count, size and SHA-256.

    Members are streamed into the archive (`ZipFile.open(name, "w")`) and their checksums computed
    as they are written. `zip_file` is a path or a binary file. Returns the manifest.
    """
    redactions = _redactions_check(redactions or {})
    generated_at = timezone.now().isoformat()
    categories = export_categories(only=categories)
    files: list[dict[str, Any]] = []
    with zipfile.ZipFile(zip_file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for category, stem in zip(categories, _member_stems(categories), strict=True):
            files += _category_members_write(
                archive=archive,
                stem=stem,
                category=category,
                subject=subject,
                redactions=redactions,
                chunk_size=chunk_size,
            )
        files += _sections_members_write(archive=archive, sections=sections)
        manifest = {
            "schema_version": PORTABILITY_SCHEMA_VERSION,
            "generated_at": generated_at,
            "subject": subject.ref,
            "files": files,
        }
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    return manifest


def _category_members_write(
    *,
    archive: zipfile.ZipFile,
    stem: str,
    category: Category,
    subject: Subject,
    redactions: Redactions | None,
    chunk_size: int,
) -> list[dict[str, Any]]:
    """Write one category's JSON and CSV members; return their manifest entries.

    A ZIP takes one member at a time, so the CSV goes to a spooled temporary file during the same
    pass as the JSON, and is copied in after: both files come from one read of the data. The spool
    moves to disk past one block, so a big category costs disk, not memory.
    """
    with tempfile.SpooledTemporaryFile(max_size=CountingWriter.BLOCK) as spool:
        csv_out = CountingWriter(spool)
        with archive.open(f"{stem}.json", "w") as member:
            json_out = CountingWriter(member)
            json_sink = JsonSink(json_out, suffix="\n")
            json_sink.start()
            counts = _walk(
                categories=[category],
                subject=subject,
                sinks=[json_sink, CsvSink(csv_out)],
                redactions=redactions,
                chunk_size=chunk_size,
            )
            json_sink.finish()
            json_out.flush()
        csv_out.flush()
        spool.seek(0)
        with archive.open(f"{stem}.csv", "w") as member:
            shutil.copyfileobj(spool, member, CountingWriter.BLOCK)
    records = sum(counts.values())
    return [
        _manifest_file(f"{stem}.json", category, records, json_out),
        _manifest_file(f"{stem}.csv", category, records, csv_out),
    ]


def _manifest_file(
    name: str, category: Category | str, records: int, out: CountingWriter
) -> dict[str, Any]:
    return {
        "name": name,
        "category": category if isinstance(category, str) else category.name,
        "records": records,
        "sha256": out.sha256.hexdigest(),
        "bytes": out.bytes,
    }


# --- Other systems' data (connected data stores) -------------------------------------------------


def _section_label(section: ExportSection) -> str:
    if not section.collection:
        return section.system
    return f"{section.system} / {section.collection}"


def _field_label(section: ExportSection, name: str) -> str:
    """A column's heading: the field and its data categories, where the system names them."""
    categories = section.categories[name]
    return f"{name} ({', '.join(categories)})" if categories else name


def _section_header(section: ExportSection) -> str:
    """The section's JSON object, reopened to append its records."""
    header = {
        "system": section.system,
        "collection": section.collection,
        "categories": section.categories,
    }
    if section.note:
        header["note"] = section.note
    return _json(header)[:-1] + ',"records":['


def _sections_write(
    sections: Sequence[ExportSection], *, json_out: IO[str], html_out: IO[str]
) -> dict[str, int]:
    """The report's `connected_systems` list and its HTML section, from one read of each
    section's rows; returns the records per "system / collection"."""
    counts: dict[str, int] = {}
    json_out.write(',"connected_systems":[')
    if sections:
        heading = escape(_("Data held in our other systems"))
        html_out.write(
            f'<section aria-labelledby="connected-systems">\n'
            f'<h2 id="connected-systems">{heading}</h2>\n'
        )
    for number, section in enumerate(sections):
        json_out.write(("," if number else "") + _section_header(section))
        names = list(section.categories)
        html_out.write(f"<h3>{escape(_section_label(section))}</h3>\n")
        if section.note:
            html_out.write(f"<p>{escape(section.note)}</p>\n")
        if not section.collection:  # a system gone through by hand: its note says it all
            json_out.write("]}")
            counts[_section_label(section)] = 0
            continue
        html_out.write(
            "<table>\n<thead><tr>"
            + "".join(f'<th scope="col">{escape(_field_label(section, n))}</th>' for n in names)
            + "</tr></thead>\n<tbody>\n"
        )
        count = 0
        for row in section.rows():
            json_out.write(("," if count else "") + _json(row))
            cells = _escaped([_cell(row.get(n)) for n in names])
            html_out.write("<tr><td>" + "</td><td>".join(cells) + "</td></tr>\n")
            count += 1
        json_out.write("]}")
        html_out.write("</tbody>\n</table>\n")
        counts[_section_label(section)] = count
    json_out.write("]")
    if sections:
        html_out.write("</section>\n")
    return counts


def _sections_members_write(
    *, archive: zipfile.ZipFile, sections: Sequence[ExportSection]
) -> list[dict[str, Any]]:
    """One JSON member per other system's collection; their manifest entries."""
    files = []
    for number, section in enumerate(sections, start=1):
        slugs = filter(None, (slugify(section.system), slugify(section.collection)))
        name = f"system-{number}-{'-'.join(slugs)}.json"
        with archive.open(name, "w") as member:
            out = CountingWriter(member)
            out.write(_section_header(section))
            count = 0
            for row in section.rows():
                out.write(("," if count else "") + _json(row))
                count += 1
            out.write("]}\n")
            out.flush()
        files.append(_manifest_file(name, _section_label(section), count, out))
    return files
