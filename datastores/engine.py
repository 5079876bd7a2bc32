"""Running a dataset's graph against a SQL database with SQLAlchemy Core, set-based.

For a request, the plan starts at the collections that hold one of the person's identities
(`fides_meta.identity`: email, phone_number, user_id, …) and follows the references: a
collection reached from another gets the condition `child_field IN (SELECT parent_field FROM
parent WHERE <the parent's condition>)`. So every step is one statement per collection,
whatever the number of rows:

- access: one SELECT of the primary key and the personal fields (categories under `user`),
  streamed (`yield_per`), so memory stays flat in the number of rows;
- dry run: one SELECT COUNT(*) per collection;
- erasure: one DELETE (collection strategy `delete`) or one UPDATE setting every masked field
  (NULL, a fixed value; a keyed hash is a CASE over the distinct values, in chunks of
  HMAC_CHUNK values). Keys (primary keys, reference fields) are never written.

Erasing a collection's identity field (an email) would make the collection unfindable for the
steps after it, so before any change the keys of the rows found by a masked identity are
captured (`anchors`, kept on the job row: the person's own rows); from then on those rows are
found by key. Collections are erased children before the parents whose rows they are found
through when the parent deletes its rows, and after every collection named in `erase_after`.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import hashlib
import hmac
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from django.utils.translation import gettext as _
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import NullPool

from .fides import HMAC, NULL_REWRITE, STRING_REWRITE, DatasetError, Graph

HMAC_CHUNK = 1000
STREAM_ROWS = 2000

_DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}


def engine_url(url: str) -> sa.URL:
    """The SQLAlchemy URL with the portal's drivers (psycopg 3, PyMySQL) where none is named."""
    parsed = make_url(url)
    if parsed.drivername in _DRIVERS:
        parsed = parsed.set(drivername=_DRIVERS[parsed.drivername])
    return parsed


def engine_open(url: str) -> Engine:
    """An engine without a pool: a job opens its connection, runs its steps, and closes it."""
    return sa.create_engine(engine_url(url), poolclass=NullPool)


def url_masked(url: str) -> str:
    """The URL with its password hidden, for the admin and the logs."""
    try:
        return engine_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown as nothing of it
        return "***"


# --- The schema check --------------------------------------------------------------------------


def schema_problems(engine: Engine, graph: Graph) -> list[str]:
    """What in the dataset does not match the database: missing tables and columns, a
    collection without a primary key, NULL written into a column that takes none."""
    inspector = sa.inspect(engine)
    tables = set(inspector.get_table_names())
    problems = []
    for collection in graph.collections.values():
        if collection.name not in tables:
            problems.append(
                _("The table “%(table)s” does not exist in the database.")
                % {"table": collection.name}
            )
            continue
        columns = {c["name"]: c for c in inspector.get_columns(collection.name)}
        for name in collection.columns:
            if name not in columns:
                problems.append(
                    _("The column “%(column)s” does not exist in the table “%(table)s”.")
                    % {"column": name, "table": collection.name}
                )
        if collection.personal and not collection.primary_key:
            problems.append(
                _(
                    "The collection “%(table)s” holds personal data but names no primary key "
                    "(fides_meta.primary_key)."
                )
                % {"table": collection.name}
            )
        if collection.delete_rows:
            continue
        for spec in collection.masked:
            column = columns.get(spec.name)
            if column and spec.strategy == NULL_REWRITE and not column.get("nullable", True):
                problems.append(
                    _(
                        "“%(table)s.%(column)s” takes no NULL: give it another masking strategy "
                        "(string_rewrite or hmac)."
                    )
                    % {"column": spec.name, "table": collection.name}
                )
    return problems


def touches(graph: Graph) -> list[dict]:
    """What the dataset would read and change, per collection (the officer's check, the dry
    run)."""
    return [
        {
            "name": c.name,
            "identities": dict(c.identities),
            "reads": [s.name for s in c.personal],
            "erasure": _("delete the rows")
            if c.delete_rows
            else ", ".join(f"{s.name}: {s.strategy}" for s in c.masked),
        }
        for c in graph.collections.values()
    ]


def error_text(error: Exception, limit: int = 300) -> str:
    """A driver's error in its own words, one line, for the admin and the part's row."""
    first = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {first[:limit]}"


# --- The plan ----------------------------------------------------------------------------------


@dataclass
class Plan:
    graph: Graph
    tables: dict[str, sa.TableClause]
    conditions: dict[str, sa.ColumnElement[bool]]
    order: list[str]  # reached collections, parents first


def plan_build(
    *,
    graph: Graph,
    identities: Mapping[str, list],
    anchors: Mapping[str, list] | None = None,
) -> Plan:
    """The collections the person's identities (type → values) reach, each with its condition.
    With `anchors` (collection → primary keys captured before an erasure), those collections
    are found by key."""
    # The dataset names the columns (checked against the database when it was uploaded): no
    # reflection, so a plan costs no round trip to the catalogue.
    tables = {
        name: sa.table(name, *(sa.column(c) for c in collection.columns))
        for name, collection in graph.collections.items()
    }
    conditions: dict[str, sa.ColumnElement[bool]] = {}
    order: list[str] = []
    for name, collection in graph.collections.items():
        if anchors and name in anchors:
            conditions[name] = _by_key(tables[name], collection.primary_key, anchors[name])
            order.append(name)
            continue
        matches = [
            tables[name].c[column].in_(identities[kind])
            for kind, column in collection.identities.items()
            if identities.get(kind)
        ]
        if matches:
            conditions[name] = sa.or_(*matches)
            order.append(name)
    position = 0
    while position < len(order):  # breadth first: a parent's condition is final when used
        parent = order[position]
        position += 1
        for edge in graph.edges:
            if edge.parent != parent or edge.child in order[:position]:
                continue
            found = (
                tables[edge.child]
                .c[edge.child_field]
                .in_(sa.select(tables[parent].c[edge.parent_field]).where(conditions[parent]))
            )
            if edge.child in conditions:
                conditions[edge.child] = sa.or_(conditions[edge.child], found)
            else:
                conditions[edge.child] = found
                order.append(edge.child)
    return Plan(graph=graph, tables=tables, conditions=conditions, order=order)


def _by_key(table: sa.TableClause, primary_key: str | None, keys: list) -> sa.ColumnElement[bool]:
    if not keys or primary_key is None:
        return sa.false()
    return table.c[primary_key].in_(keys)


def erase_order(plan: Plan) -> list[str]:
    """The reached collections in the order an erasure changes them; DatasetError if the
    dataset's erase_after and its deletions cannot all be kept."""
    graph = plan.graph
    reached = set(plan.order)
    before: dict[str, set[str]] = {name: set() for name in plan.order}  # name → run first
    for name in plan.order:
        before[name] |= {a for a in graph.collections[name].erase_after if a in reached}
    for edge in graph.edges:
        parent = graph.collections[edge.parent]
        if edge.parent in reached and edge.child in reached and parent.delete_rows:
            before[edge.parent].add(edge.child)
    ordered: list[str] = []
    while len(ordered) < len(plan.order):
        # Found-through rows first (children before the parents they are reached from, as
        # foreign keys want), unless erase_after or a deletion says otherwise.
        ready = [n for n in reversed(plan.order) if n not in ordered and before[n] <= set(ordered)]
        if not ready:
            stuck = [n for n in plan.order if n not in ordered]
            raise DatasetError(
                _(
                    "The erase order cannot be kept (erase_after and deletions go round in a "
                    "circle): %(names)s"
                )
                % {"names": ", ".join(stuck)}
            )
        ordered.append(ready[0])
    return ordered


def anchors_capture(conn: Connection, plan: Plan) -> dict[str, list]:
    """Primary keys of the rows found by an identity the erasure overwrites (before any change)."""
    anchors = {}
    for name in plan.order:
        collection = plan.graph.collections[name]
        masked = {s.name for s in collection.masked}
        if not collection.delete_rows and masked & set(collection.identities.values()):
            table = plan.tables[name]
            rows = conn.execute(
                sa.select(table.c[collection.primary_key]).where(plan.conditions[name])
            )
            anchors[name] = [_plain(row[0]) for row in rows]
    return anchors


# --- Steps -------------------------------------------------------------------------------------


def plan_counts(conn: Connection, plan: Plan) -> dict[str, int]:
    """Rows each reached collection holds of the person: one COUNT per collection."""
    return {
        name: conn.execute(
            sa.select(sa.func.count()).select_from(plan.tables[name]).where(plan.conditions[name])
        ).scalar_one()
        for name in plan.order
    }


def access_rows(conn: Connection, plan: Plan, name: str) -> Iterator[dict]:
    """The person's rows of one collection: its primary key and personal fields, streamed."""
    collection = plan.graph.collections[name]
    table = plan.tables[name]
    names = [s.name for s in collection.personal]
    if collection.primary_key and collection.primary_key not in names:
        names.insert(0, collection.primary_key)
    statement = sa.select(*(table.c[n] for n in names)).where(plan.conditions[name])
    if collection.primary_key:
        statement = statement.order_by(table.c[collection.primary_key])
    result = conn.execution_options(stream_results=True, yield_per=STREAM_ROWS).execute(statement)
    for row in result:
        yield {n: _plain(v) for n, v in zip(names, row, strict=True)}


def erasure_step(conn: Connection, plan: Plan, name: str, *, hmac_key: bytes) -> int:
    """Erase one collection's rows of the person; return the rows changed."""
    collection = plan.graph.collections[name]
    table = plan.tables[name]
    condition = plan.conditions[name]
    if collection.delete_rows:
        return conn.execute(sa.delete(table).where(condition)).rowcount
    values: dict[str, object] = {}
    hashed = []
    for spec in collection.masked:
        if spec.strategy == NULL_REWRITE:
            values[spec.name] = None
        elif spec.strategy == STRING_REWRITE:
            values[spec.name] = spec.value
        elif spec.strategy == HMAC:
            hashed.append(spec.name)
    changed = 0
    if values:
        changed = conn.execute(sa.update(table).where(condition).values(**values)).rowcount
    for column_name in hashed:
        changed = max(changed, _hash_column(conn, table, column_name, condition, hmac_key))
    return changed


def _hash_column(conn, table, column_name, condition, key: bytes) -> int:
    column = table.c[column_name]
    declared = {c["name"]: c["type"] for c in sa.inspect(conn).get_columns(table.name)}
    length = getattr(declared.get(column_name), "length", None)  # a digest cut to fit
    distinct = [
        row[0]
        for row in conn.execute(sa.select(column).where(condition, column.is_not(None)).distinct())
    ]
    changed = 0
    for start in range(0, len(distinct), HMAC_CHUNK):
        chunk = distinct[start : start + HMAC_CHUNK]
        digests = {v: keyed_hash(v, key)[:length] if length else keyed_hash(v, key) for v in chunk}
        changed += conn.execute(
            sa.update(table)
            .where(condition, column.in_(chunk))
            .values({column_name: sa.case(digests, value=column, else_=column)})
        ).rowcount
    return changed


def keyed_hash(value, key: bytes) -> str:
    return hmac.new(key, str(value).encode(), hashlib.sha256).hexdigest()


def _plain(value):
    """A value as JSON holds it."""
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    return value
