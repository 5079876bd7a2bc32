"""Tools for the fuzz tests (tests/security/test_fuzz*.py): hostile values, raw form bodies that
carry anything HTTP can carry, and a snapshot of the whole database to prove that a refused
input changed nothing."""

import hashlib
import os
from importlib import import_module
from urllib.parse import quote_from_bytes

from django.conf import settings as django_settings
from django.contrib import messages
from django.db import connection
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Bounded and reproducible in CI: the same examples every run, no example database on disk.
# FUZZ_EXAMPLES=500 runs a longer fuzz by hand.
FUZZ_SETTINGS = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "8")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def volatile_tables() -> frozenset[str]:
    """Tables that change on any request without anything being accepted: the session store
    (the session-timeout middleware stamps every request) and allauth's list of sessions."""
    store = import_module(django_settings.SESSION_ENGINE).SessionStore.get_model_class()
    return frozenset({store._meta.db_table, "django_session", "usersessions_usersession"})


NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\u202eevil\u202c",  # right-to-left override
    "\u200f\u0627\u0644\u0639\u0631\u0628\u064a\u0629",  # RTL mark and Arabic
    "\ud800",  # a lone surrogate: sent as the bytes a broken client would send
    "\udfff\ud800",
    "\ufeff",
    "\uffff",
    "😀" * 300,
    "İı ß ﬀ ǅ",
    "'; DROP TABLE accounts_user; --",
    "<script>alert(1)</script>",
    "{{ 7*7 }} {% debug %} ${7*7} %s %(x)s",
    "../../etc/passwd",
    "0",
    "-1",
    "²",  # str.isdigit() says yes, int() says no
    "٣",
    "１２",
    "1e309",
    "NaN",
    "inf",
    "9" * 40,
    "-" + "9" * 40,
    "true",
    "null",
    "[]",
    "{}",
    "0000-00-00",
    "2024-02-30",
    "9999-12-31",
    "10000-01-01",
    "-0001-01-01",
    "@",
    "a@b",
    "x@" + "y" * 300 + ".com",
    "\r\n\r\nBcc: victim@example.com",
    "x" * 70_000,
    "\n" * 1000,
]

texts = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=20),
    st.text(alphabet=st.characters(categories=["Cs", "Cc", "Cf", "Zl", "Zp"]), max_size=10),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


def field_values(valid, samples=()):
    """One posted field: missing, its valid value (or another meaningful one from `samples`),
    a hostile text, or several values at once (a list where one value is expected)."""
    return st.one_of(
        st.just(None),  # missing
        st.sampled_from([valid, *samples]),
        texts,
        st.lists(texts, min_size=2, max_size=3),
    )


@st.composite
def payloads(draw, valid: dict, names: list[str], samples: dict | None = None):
    """A form body built from a valid one: every field kept, dropped or replaced, plus an
    unexpected field now and then."""
    body = {}
    for name in names:
        value = draw(field_values(valid.get(name, ""), (samples or {}).get(name, ())))
        if value is not None:
            body[name] = value
    if draw(st.booleans()):
        body[draw(texts)] = draw(texts)
    return body


def as_received(text: str) -> str:
    """The text a view gets for `text`: Django decodes request bodies with replacement."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def encode(body: dict) -> bytes:
    """application/x-www-form-urlencoded, as any client could send it: lists repeat the key,
    lone surrogates become the invalid UTF-8 bytes a broken client sends."""
    pairs = []
    for name, value in body.items():
        for one in value if isinstance(value, list) else [value]:
            pairs.append(
                quote_from_bytes(str(name).encode("utf-8", "surrogatepass"))
                + "="
                + quote_from_bytes(str(one).encode("utf-8", "surrogatepass"))
            )
    return "&".join(pairs).encode("ascii")


def database_snapshot() -> dict[str, str]:
    """Every table's row count and a checksum of all its rows (order does not matter)."""
    tables = sorted(set(connection.introspection.table_names()) - volatile_tables())
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            parts = [
                f"SELECT {i}, count(*)::text || ':' || coalesce(md5(string_agg(md5(t::text), '' "
                f"ORDER BY md5(t::text))), '') FROM {qn(name)} t"
                for i, name in enumerate(tables)
            ]
            cursor.execute(" UNION ALL ".join(parts))
            return {tables[i]: digest for i, digest in cursor.fetchall()}
        result = {}
        for name in tables:
            cursor.execute(f"SELECT * FROM {qn(name)}")  # noqa: S608 (names from introspection)
            rows = sorted(repr(row) for row in cursor.fetchall())
            result[name] = f"{len(rows)}:" + hashlib.sha256("\n".join(rows).encode()).hexdigest()
        return result


def snapshot_diff(before: dict, after: dict) -> list[str]:
    return sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )


def refusal(response) -> str:
    """Why the view refused the input ("" when it took it): an error status, a bound form with
    errors on the page (the admin's forms too), or an error message queued for the next page."""
    if response.status_code >= 400:
        return f"status {response.status_code}"
    for context in response.context or []:
        values = context.flatten().values() if hasattr(context, "flatten") else context.values()
        for value in values:
            form = getattr(value, "form", value)  # the admin wraps its form
            if getattr(form, "is_bound", False) and form.errors:
                return f"form errors {form.errors.get_json_data()}"
    storage = getattr(response.wsgi_request, "_messages", None)
    queued = getattr(storage, "_queued_messages", [])
    errors = [str(m) for m in queued if m.level >= messages.ERROR]
    return f"messages {errors}" if errors else ""
