"""Rows rendered by PostgreSQL (dsar.export_sql) must be exactly what Python makes of them: the
same JSON text as `_json(export_value(...))` and the same HTML cell as `html.escape(_cell(...))`,
for every kind of value, however awkward."""

import datetime
import io
import json
import uuid
from decimal import Decimal
from html import escape

import pytest
from django.db import connection, models
from django.utils import timezone

from consent.models import FormSubmission
from dsar import exports, registry
from dsar.export_sql import ROW, sql_value
from dsar.exports import _cell, _json, access_report_write, export_value

from .people import make_person

pytestmark = pytest.mark.django_db

NASTY_TEXT = [
    "",
    "plain",
    "<script>alert('x')</script> & \"quoted\" > less",
    "&amp; already escaped &lt;",
    "back\\slash and / slash",
    "new\nline\ttab\rreturn\x08backspace\x0cfeed\x01\x1f\x7f",
    "unicode: Grüße, 日本語, emoji 🙂, RTL \u202e, line sep \u2028 \u2029",
    'a, b: c "d, e": f',
    "null",
]
JSON_VALUES = [
    None,
    {},
    [],
    {"a": None, "b": [None, 1, "x"], "c": {"d": None}},
    {"answer": "Yes, of course: always", "n": 10, "neg": -3, "big": 12345678901234567890},
    {"html": "<b>&'\"</b>", "esc": 'tab\tnl\nquote"back\\', "u": "ü🙂\u2028", "ctl": "\x01"},
    {"nested": {"list": [{"k": "v, w: x"}, [], {}], "t": True, "f": False}},
    "a bare string, with: separators",
    "",
    42,
    True,
    {"price": 1.50, "ratio": 0.1, "dot in key.x": 1},  # fractions: Python's floats
    [1.0, 2.25, "3.5"],
    {"only a dot in a string": "v1.2", "k": 1},
]


def rendered(field: models.Field, value, sql_type: str):
    """(JSON text, HTML cell text, raw text) the database renders for `value` in `field`."""
    value_sql = sql_value(field, "c1")
    assert value_sql is not None, f"{type(field).__name__} has no SQL form"
    cast = f"(%s::{sql_type})::text" if value_sql.read_as_text else f"%s::{sql_type}"
    source = f"(SELECT {cast}) AS {ROW} (c1)"
    if value_sql.prepared:
        computed = ", ".join(f"{e} AS {a}" for a, e in value_sql.prepared)
        source = f"(SELECT {ROW}.*, {computed} FROM {source} OFFSET 0) AS {ROW}"
    raw = value_sql.raw or "NULL"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {value_sql.json}, {value_sql.html}, {raw} FROM {source}", [value])
        return cursor.fetchone()


def python_texts(field: models.Field, stored):
    value = export_value(field, stored)
    return _json(value), escape(_cell(value))


@pytest.mark.parametrize("text", [*NASTY_TEXT, None])
@pytest.mark.parametrize(
    "field",
    [
        models.CharField(max_length=500),
        models.TextField(null=True),
        models.EmailField(),
        models.CharField(max_length=20, choices=[("a&b", "A and B"), ("<x>", "X")]),
    ],
    ids=["char", "text", "email", "choices"],
)
def test_text_is_escaped_for_json_and_html_as_python_does(field, text):
    json_text, html_text, _raw = rendered(field, text, "text")
    assert (json_text, html_text) == python_texts(field, text)
    if text is not None:
        assert json.loads(json_text) == text


@pytest.mark.parametrize("name", [None, "", "photos/a&b <1>.jpg", "photos/ü 'x'.png"])
def test_file_fields_are_their_stored_name_or_empty(name):
    for field in (models.FileField(), models.ImageField()):
        assert rendered(field, name, "varchar")[:2] == python_texts(field, name)


@pytest.mark.parametrize(
    "when",
    [
        None,
        datetime.datetime(2026, 11, 25, 4, 32, 29, 123456, tzinfo=datetime.UTC),
        datetime.datetime(2026, 11, 25, 4, 32, 29, 120000, tzinfo=datetime.UTC),
        datetime.datetime(2026, 11, 25, 4, 32, 29, 0, tzinfo=datetime.UTC),
        datetime.datetime(2026, 11, 25, 4, 32, 29, 1, tzinfo=datetime.UTC),
        datetime.datetime(999, 1, 2, 0, 0, 0, tzinfo=datetime.UTC),
        # Another zone: exported in UTC, as the ORM reads it.
        datetime.datetime(
            2026, 6, 1, 23, 30, 5, 500, tzinfo=datetime.timezone(datetime.timedelta(hours=-7))
        ),
    ],
)
def test_datetimes_are_iso_8601_in_utc_with_microseconds_only_when_any(when):
    field = models.DateTimeField(null=True)
    json_text, html_text, _raw = rendered(field, when, "timestamptz")
    stored = None if when is None else when.astimezone(datetime.UTC)
    assert (json_text, html_text) == python_texts(field, stored)


@pytest.mark.parametrize("day", [None, datetime.date(2026, 2, 28), datetime.date(5, 1, 9)])
def test_dates_are_iso_8601(day):
    field = models.DateField(null=True)
    assert rendered(field, day, "date")[:2] == python_texts(field, day)


@pytest.mark.parametrize("flag", [None, True, False])
def test_booleans_are_json_booleans_and_true_false_cells(flag):
    field = models.BooleanField(null=True)
    assert rendered(field, flag, "boolean")[:2] == python_texts(field, flag)


@pytest.mark.parametrize("number", [None, 0, -1, 2**40, 32767])
def test_integers_and_choices_of_integers(number):
    for field in (
        models.BigIntegerField(null=True),
        models.PositiveSmallIntegerField(choices=[(1, "x")]),
    ):
        assert rendered(field, number, "bigint")[:2] == python_texts(field, number)


def test_uuids_are_strings():
    field = models.UUIDField()
    value = uuid.UUID("12345678-90ab-cdef-1234-567890abcdef")
    assert rendered(field, value, "uuid")[:2] == python_texts(field, value)


@pytest.mark.parametrize("value", JSON_VALUES, ids=[repr(v)[:40] for v in JSON_VALUES])
def test_json_values_are_compact_like_python_or_left_to_python(value):
    field = models.JSONField(null=True)
    stored = None if value is None else json.dumps(value)
    json_text, html_text, raw = rendered(field, stored, "jsonb")
    with connection.cursor() as cursor:  # what the ORM reads: the database's own text
        cursor.execute("SELECT %s::jsonb::text", [stored])
        read = field.from_db_value(cursor.fetchone()[0], None, connection)
    expected = python_texts(field, read)
    if json_text is None:  # a number with a fraction: Python renders it from the raw text
        assert html_text is None
        assert python_texts(field, field.from_db_value(raw, None, connection)) == expected
        assert "." in raw
    else:
        assert (json_text, html_text) == expected
        assert raw is None


def test_values_without_an_exact_sql_form_keep_the_python_path():
    from phonenumber_field.modelfields import PhoneNumberField

    for field in (
        PhoneNumberField(),
        models.DecimalField(max_digits=10, decimal_places=8),  # str(Decimal) may use exponents
        models.FloatField(),
        models.BinaryField(),
        models.TimeField(),
        models.DurationField(),
    ):
        assert sql_value(field, "c1") is None, type(field).__name__
    assert export_value(models.DecimalField(), Decimal("0.00000010")) == "1.0E-7"


# --- Whole reports: the database's rendering and Python's are the same bytes --------------------


@pytest.fixture
def person():
    from tests.factories import UserFactory

    staff = UserFactory(is_staff=True, full_name="Staff Member")
    return make_person(
        username="ada",
        full_name='Ada <script>alert(1)</script> O\'Lovelace & "Co"',
        phone="+353861234567",
        staff=staff,
    )


STORED_JSON = JSON_VALUES[1:]  # the column is NOT NULL


def add_nasty_submissions(person):
    now = timezone.now()
    FormSubmission.objects.bulk_create(
        FormSubmission(
            kind=FormSubmission.Kind.choices[0][0],
            user=person.user,
            email=person.user.email,
            name=text,
            company_name=NASTY_TEXT[(i + 3) % len(NASTY_TEXT)],
            message=text * 2,
            details=STORED_JSON[i % len(STORED_JSON)],
            purpose="p",
            source="/forms/<x>",
            created_at=now.replace(microsecond=0) if i % 2 else now,
            retain_until=now + datetime.timedelta(days=i + 1),
            from_child=bool(i % 3),
        )
        for i, text in enumerate(NASTY_TEXT * 3)
    )


def report(subject, **kwargs):
    json_file, html_file = io.StringIO(), io.StringIO()
    counts = access_report_write(
        subject=subject, json_file=json_file, html_file=html_file, **kwargs
    )
    return counts, json_file.getvalue(), html_file.getvalue()


def test_the_database_renders_every_row_exactly_as_python_does(person, monkeypatch):
    add_nasty_submissions(person)
    fixed = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: fixed)
    by_database = report(person.subject, chunk_size=7)
    monkeypatch.setattr(exports, "_rendered_rows_write", lambda **kwargs: None)
    by_python = report(person.subject, chunk_size=7)
    assert by_database[0]["consent.FormSubmission"] == len(NASTY_TEXT) * 3
    assert by_database == by_python  # counts, and the JSON and HTML documents byte for byte
    json.loads(by_database[1])


def test_common_models_are_rendered_by_the_database(person):
    add_nasty_submissions(person)
    sinks = [
        exports.JsonSink(io.StringIO()),
        exports.HtmlSink(io.StringIO(), subject=person.subject, generated_at=""),
    ]
    for label in (
        "consent.FormSubmission",
        "account.EmailAddress",
        "dsar.ProcessingBlock",
        "admin.LogEntry",
    ):
        entry = registry.entry_by_label(label)
        for sink in sinks:
            sink.model_start(entry)
        count = exports._rendered_rows_write(
            entry=entry, subject=person.subject, sinks=sinks, chunk_size=5
        )
        assert count is not None and count > 0, label
    # The account holds a phone number: Python's (phonenumbers) formatting, so Python's path.
    user_entry = registry.entry_by_label("accounts.User")
    assert (
        exports._rendered_rows_write(
            entry=user_entry, subject=person.subject, sinks=sinks, chunk_size=5
        )
        is None
    )


def test_another_persons_rows_never_appear(person):
    from tests.factories import UserFactory

    other = make_person(
        username="grace",
        full_name="Grace Hopper",
        phone="+353871112222",
        staff=UserFactory(is_staff=True),
    )
    add_nasty_submissions(other)
    FormSubmission.objects.filter(user=other.user).update(name="GRACE-ONLY")
    _counts, json_text, html_text = report(person.subject)
    assert "GRACE-ONLY" not in json_text and "GRACE-ONLY" not in html_text
    assert other.user.email not in json_text and other.user.email not in html_text


def test_a_json_number_with_a_fraction_is_left_to_python_and_strings_with_dots_are_not():
    field = models.JSONField()
    assert rendered(field, json.dumps({"price": 1.50}), "jsonb")[0] is None
    assert rendered(field, json.dumps({"v": "1.50", "n": 2}), "jsonb")[0] == '{"n":2,"v":"1.50"}'
