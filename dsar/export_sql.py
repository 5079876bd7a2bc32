"""Exported values rendered by PostgreSQL: the same text `export_value`, `_json` and `html.escape`
make of a column, as SQL expressions, so a large export does not turn every row into Python
objects (bench/NOTES.md, access export).

`sql_value(field, name)` gives, for one column, an expression for its JSON text and one for its
HTML cell text, or None where the database cannot give exactly what Python gives (phone numbers,
floats, binary data, times of day and durations, custom JSON decoders): such a model keeps the
Python path (decimals too: str(Decimal) switches to exponent notation by the value). A JSON
value holding a number with a fraction is rendered by Python (it reads 1.50 as the float 1.5):
the query gives its raw text there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connections, models
from django.db.models.fields.json import JSONField
from django_countries.fields import CountryField

# html.escape(s, quote=True): & first, then < > " '.
_HTML_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#x27;"))

# A JSON string in jsonb's output (quotes, and any escaped character inside).
_JSON_STRING = r'"(?:[^"\\]|\\.)*"'


# The alias of the rows a rendering query reads: `sql_value`'s expressions refer to r.<name>.
ROW = "r"


@dataclass(frozen=True)
class SqlValue:
    """SQL expressions for a column's JSON text and its HTML cell text. They are never NULL,
    unless `raw` is given: where they are NULL, `raw` is the stored value's text, and Python
    makes the texts from it. `prepared` are (alias, expression) pairs computed once per row for
    both texts to use; `read_as_text`: the column is read as text (`::text`)."""

    json: str
    html: str
    raw: str | None = None
    prepared: tuple[tuple[str, str], ...] = ()
    read_as_text: bool = False


def html_escaped(expression: str) -> str:
    """`expression` (text) escaped as html.escape does it."""
    for char, entity in _HTML_ESCAPES:
        literal = char.replace("'", "''")
        expression = f"replace({expression}, '{literal}', '{entity}')"
    return expression


def _text(column: str) -> SqlValue:
    return SqlValue(
        json=f"coalesce(to_json({column})::text, 'null')",
        html=f"coalesce({html_escaped(column + '::text')}, '')",
    )


def _quoted(text: str) -> SqlValue:
    """Text that needs no escaping in JSON or HTML (digits, dates): a JSON string."""
    return SqlValue(json=f"coalesce('\"' || {text} || '\"', 'null')", html=f"coalesce({text}, '')")


def _bare(text: str) -> SqlValue:
    """Text that is its own JSON (numbers, true/false) and needs no HTML escaping."""
    return SqlValue(json=f"coalesce({text}, 'null')", html=f"coalesce({text}, '')")


def _datetime_utc(name: str) -> SqlValue:
    # datetime.isoformat(): microseconds only when there are any (".000000" is only ever the
    # fraction), and the UTC offset as +00:00. Made once per row for both texts.
    text = f"""to_char({ROW}.{name} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""
    value = _quoted(f"{ROW}.{name}_iso")
    return SqlValue(
        value.json, value.html, prepared=((f"{name}_iso", f"replace({text}, '.000000+', '+')"),)
    )


def _json_column(name: str) -> SqlValue:
    """jsonb (read as its text), as Python writes what `json.loads` made of it: keys in jsonb's
    order, strings escaped alike, compact separators. jsonb writes ", " and ": " between items;
    json_strip_nulls writes the same JSON without them, but drops the nulls of objects, so a
    value holding "null" anywhere takes a regular expression that leaves strings alone (slower,
    rarely needed). Numbers with a fraction are floats in Python (1.50 becomes 1.5): there, the
    texts are NULL and `raw` is the value, for Python."""
    text, compact = f"{ROW}.{name}", f"{ROW}.{name}_json"
    without_strings = f"regexp_replace({text}, '{_JSON_STRING}', '', 'g')"
    exact = f"strpos({text}, '.') = 0 OR strpos({without_strings}, '.') = 0"
    compacted = (
        f"CASE WHEN strpos({text}, 'null') = 0 THEN json_strip_nulls({text}::json)::text "
        f"ELSE regexp_replace({text}, '({_JSON_STRING})|([,:]) ', '\\1\\2', 'g') END"
    )
    # The cell of a JSON string is the string itself, of null nothing (as `_cell` makes them).
    string = html_escaped(f"({compact}::json #>> '{{}}')")
    cell = (
        f"CASE WHEN {text} IS NULL THEN '' WHEN left({compact}, 1) = '\"' THEN {string} "
        f"WHEN {compact} = 'null' THEN '' ELSE {html_escaped(compact)} END"
    )
    return SqlValue(
        json=f"CASE WHEN {text} IS NULL THEN 'null' ELSE {compact} END",
        html=cell,
        raw=f"CASE WHEN {compact} IS NULL THEN {text} END",
        read_as_text=True,
        prepared=((f"{name}_json", f"CASE WHEN {exact} THEN {compacted} END"),),
    )


# Exact field types (a subclass may convert its values) by how their values are written.
_TEXT = (
    models.CharField,
    models.EmailField,
    models.SlugField,
    models.TextField,
    models.URLField,
    models.GenericIPAddressField,
)
_INTEGER = (
    models.AutoField,
    models.BigAutoField,
    models.BigIntegerField,
    models.IntegerField,
    models.PositiveBigIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.SmallAutoField,
    models.SmallIntegerField,
)


def sql_value(field: models.Field, name: str, *, using: str = "default") -> SqlValue | None:
    """The SQL rendering of `field`'s value in column `name` of the rows read (ROW), or None
    where only Python gives exactly what `export_value` gives."""
    if isinstance(field, models.ForeignKey):
        return sql_value(field.target_field, name, using=using)
    kind, column = type(field), f"{ROW}.{name}"
    if kind in _TEXT or _is_plain_country(field):
        return _text(column)
    if kind in _INTEGER:
        return _bare(f"{column}::text")
    if kind is models.BooleanField:
        return _bare(f"CASE WHEN {column} THEN 'true' WHEN NOT {column} THEN 'false' END")
    if kind in (models.FileField, models.ImageField):
        return _text(f"coalesce({column}, '')")
    if kind is models.UUIDField:
        return _quoted(f"{column}::text")
    if kind is models.DateField:
        return _quoted(f"to_char({column}, 'YYYY-MM-DD')")
    if kind is models.DateTimeField and _utc(using):
        return _datetime_utc(name)
    if kind is JSONField and field.decoder is None and field.db_type(connections[using]) == "jsonb":
        return _json_column(name)
    return None


def _is_plain_country(field: models.Field) -> bool:
    # A country is stored and read as its code; `multiple` ones are read as lists of codes.
    return type(field) is CountryField and not field.multiple


def _utc(using: str) -> bool:
    """Aware datetimes are read in the connection's time zone; the SQL writes UTC's."""
    return bool(settings.USE_TZ) and connections[using].timezone_name == "UTC"


@dataclass(frozen=True)
class Slot:
    """A value in a sink's rendered row: its `SqlValue` and the expression the sink writes
    (`value.json` or `value.html`)."""

    value: SqlValue
    sql: str


@dataclass(frozen=True)
class Checked:
    """A value whose text Python makes where the database's is not exact: columns `text` (NULL
    there) and `raw` (the stored value's text there) of the result, and the value's place in
    the exported columns."""

    text: int
    raw: int
    column: int


@dataclass(frozen=True)
class RowLayout:
    """Where a sink's text is in a result row: column `whole`, unless it is NULL (a checked value
    is Python's to render); then `parts`: column numbers whose texts are joined, with `Checked`
    values in between."""

    whole: int
    parts: list[int | Checked] | None


@dataclass(frozen=True)
class RenderQuery:
    """The query rendering a model's rows, and per sink the layout of its text in a result row."""

    sql: str
    params: list
    layouts: list[RowLayout]


def render_query(
    source_sql: str,
    source_params: Sequence[Any],
    *,
    width: int,
    values: Sequence[SqlValue],
    rows: Sequence[Sequence[str | Slot]],
) -> RenderQuery:
    """One query for every sink's row text: `rows` holds, per sink, its constant texts (sent as
    parameters) and slots; `source_sql` gives the `width` columns the values read (c0: the
    primary key, the rows' order). Where a value with a `raw` text has none, the texts come in
    parts around it, for Python to make its text from the raw one."""
    select: list[str] = []
    params: list = []

    def column(sql: str, sql_params: Sequence[str] = ()) -> int:
        select.append(sql)
        params.extend(sql_params)
        return len(select) - 1

    raws: dict[int, int] = {}
    layouts: list[RowLayout] = []
    for parts in rows:
        whole_sql, whole_params = sql_concat(
            [Sql(part.sql) if isinstance(part, Slot) else part for part in parts]
        )
        checked = [part.value for part in parts if isinstance(part, Slot) and part.value.raw]
        if not checked:
            layouts.append(RowLayout(column(whole_sql, whole_params), None))
            continue
        # Where every checked value is exact (nearly always) the whole text; elsewhere its parts.
        exact = " AND ".join(f"({value.raw}) IS NULL" for value in checked)
        whole = column(f"CASE WHEN {exact} THEN {whole_sql} END", whole_params)

        def piece(sql: str, sql_params: Sequence[str] = (), exact: str = exact) -> int:
            return column(f"CASE WHEN NOT ({exact}) THEN {sql} END", sql_params)

        layout: list[int | Checked] = []
        pending: list[str | Sql] = []
        for part in parts:
            if isinstance(part, Slot) and part.value.raw:
                if pending:
                    layout.append(piece(*sql_concat(pending)))
                    pending = []
                value = part.value
                if id(value) not in raws:
                    raws[id(value)] = column(value.raw)
                layout.append(Checked(piece(part.sql), raws[id(value)], values.index(value)))
            else:
                pending.append(Sql(part.sql) if isinstance(part, Slot) else part)
        if pending:
            layout.append(piece(*sql_concat(pending)))
        layouts.append(RowLayout(whole, layout))
    names = ", ".join(f"c{i}" for i in range(width))
    source = f"({source_sql}) AS {ROW} ({names})"
    if prepared := [p for value in values for p in value.prepared]:
        # OFFSET 0 keeps the subquery: merged into the outer query, each use would recompute.
        computed = ", ".join(f"{expression} AS {alias}" for alias, expression in prepared)
        source = f"(SELECT {ROW}.*, {computed} FROM {source} OFFSET 0) AS {ROW}"  # noqa: S608
    # Every part is ours or the ORM's SQL; every value is a parameter.
    sql = f"SELECT {', '.join(select)} FROM {source} ORDER BY {ROW}.c0"  # noqa: S608
    return RenderQuery(sql, params + list(source_params), layouts)


@dataclass(frozen=True)
class Sql:
    """An SQL expression among the constant texts of a rendered row (see `sql_concat`)."""

    expression: str


def sql_concat(parts: Sequence[str | Sql]) -> tuple[str, list[str]]:
    """One text expression joining constant texts (sent as parameters, adjacent ones as one)
    and SQL expressions."""
    sql: list[str] = []
    params: list[str] = []
    constant = ""
    for part in [*parts, None]:
        if isinstance(part, str):
            constant += part
            continue
        if constant:
            sql.append("%s::text")
            params.append(constant)
            constant = ""
        if part is not None:
            sql.append(part.expression)
    return " || ".join(sql) or "''", params
