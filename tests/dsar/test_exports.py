import csv
import hashlib
import io
import json
import math
import tracemalloc
import zipfile
from html.parser import HTMLParser

import pytest
from django.utils import timezone
from django.utils.text import slugify

from dsar import registry
from dsar.exports import (
    REDACTED,
    access_report_write,
    export_value,
    portability_package_write,
)
from dsar.models import ProcessingBlock
from tests.accounts.factories import UserFactory

from .people import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, full_name="Staff Member")


@pytest.fixture
def person(staff):
    return make_person(
        username="ada",
        full_name="Ada <script>alert(1)</script> Lovelace",
        phone="+353861234567",
        staff=staff,
    )


@pytest.fixture
def other(staff):
    return make_person(
        username="grace", full_name="Grace Hopper", phone="+353871112222", staff=staff
    )


def write_report(subject, **kwargs):
    json_file, html_file = io.StringIO(), io.StringIO()
    counts = access_report_write(
        subject=subject, json_file=json_file, html_file=html_file, **kwargs
    )
    return counts, json.loads(json_file.getvalue()), html_file.getvalue()


def records_by_model(report):
    found = {}
    for category in report["categories"]:
        for record in category["records"]:
            found.setdefault(record["model"], []).append(record)
    return found


def test_access_report_lists_every_category_with_its_description_and_records(person, other):
    counts, report, html = write_report(person.subject)
    # A session key would let whoever holds the report sign in as the person.
    assert person.session.session_key not in json.dumps(report)
    assert person.session.session_key not in html

    assert report["schema"] == "workpex-access-report/2"
    assert report["subject"] == f"user:{person.user.pk}"
    assert {c["category"] for c in report["categories"]} == set(registry.categories())
    for category in report["categories"]:
        assert category["source"] and category["purpose"] and category["retention"]
        assert isinstance(category["recipients"], list)
    account = next(c for c in report["categories"] if c["category"] == "Account and profile")
    assert account["source"] == "You provided it; Collected automatically"
    assert "Workpex staff on a need-to-know basis" in account["recipients"]
    assert {m["model"] for m in account["models"]} == {
        "accounts.User",
        "account.EmailAddress",
        "account.EmailConfirmation",
    }

    counts = {label: n for label, n in counts.items() if n}
    assert counts == {
        "accounts.User": 1,
        "account.EmailAddress": 1,
        "account.EmailConfirmation": 1,
        "mfa.Authenticator": 1,
        "accounts.UserSession": 1,
        "admin.LogEntry": 1,
        "dsar.ProcessingBlock": 2,  # the restriction by account, the objection by email
        "dsar.AuditEvent": 1,  # who recorded the restriction, and why
    }
    found = records_by_model(report)
    assert {m: len(r) for m, r in found.items()} == counts
    [user] = found["accounts.User"]
    assert user["id"] == person.user.pk
    fields = user["fields"]
    assert set(fields) == set(registry.entry_for(type(person.user)).export_fields)
    assert fields["full_name"] == person.user.full_name
    assert fields["email"] == "ada@example.org"
    assert fields["phone"] == "+353861234567"
    assert fields["country"] == "IE"
    assert fields["date_of_birth"] == "1990-01-15"
    assert fields["photo"] == person.user.photo.name and fields["photo"].endswith(".jpg")
    assert fields["date_joined"] == person.user.date_joined.isoformat()
    assert fields["last_login"] is None
    [session] = found["accounts.UserSession"]
    assert session["id"] is None  # the key is a secret, never exported
    assert {r["id"] for r in found["dsar.ProcessingBlock"]} == {
        person.block.pk,
        person.email_block.pk,
    }
    assert found["dsar.ProcessingBlock"][0]["fields"]["kind"] == "restriction"  # stored value
    assert found["admin.LogEntry"][0]["fields"]["action_flag"] == 2
    # Nothing of the other person, and no field that is not declared for export.
    assert "grace" not in json.dumps(report).lower()
    assert "security_answer_hash" not in json.dumps(report)


class _Structure(HTMLParser):
    """Collects what the accessibility checks need and fails on unbalanced tags."""

    VOID = {"meta", "br", "hr", "img", "input", "link"}

    def __init__(self):
        super().__init__()
        self.open: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1:]}>"
        self.open.pop()

    def handle_data(self, data):
        self.text.append(data)


def test_access_report_html_is_a_complete_accessible_page_with_escaped_values(person):
    _counts, _report, html = write_report(person.subject)

    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html.lower()
    assert "Ada &lt;script&gt;alert(1)&lt;/script&gt; Lovelace" in html
    page = _Structure()
    page.feed(html)
    page.close()
    assert page.open == []
    tags = [t for t, _a in page.tags]
    assert dict(page.tags)["html"]["lang"]
    assert "title" in tags and "main" in tags
    headings = [a.get("id") for t, a in page.tags if t == "h2"]
    assert len(headings) == len(list(registry.categories()))
    assert tags.count("dl") == len(headings)
    assert tags.count("table") == 8  # one per model the person has rows in
    assert all(a.get("scope") in {"col", "row"} for t, a in page.tags if t == "th")
    external = [a for _t, a in page.tags if "src" in a or not a.get("href", "#").startswith("#")]
    assert external == []  # self-contained: no scripts, images or style sheets from elsewhere
    text = " ".join(page.text)
    for term in ("Where it comes from", "Why we hold it", "How long we keep it", "Who receives it"):
        assert text.count(term) == len(headings)
    assert "To set up and run your account" in text


def test_redactions_replace_the_chosen_values_only(person, staff):
    log_id = str(person.log_entry.pk)
    _counts, report, html = write_report(
        person.subject,
        redactions={
            "admin.LogEntry": {log_id: ["change_message"]},
            "accounts.User": {str(person.user.pk): ["phone"]},
        },
    )
    found = records_by_model(report)
    assert found["admin.LogEntry"][0]["fields"]["change_message"] == REDACTED
    assert found["admin.LogEntry"][0]["fields"]["action_flag"] == 2
    assert found["accounts.User"][0]["fields"]["phone"] == REDACTED
    assert found["accounts.User"][0]["fields"]["email"] == "ada@example.org"
    assert "+353861234567" not in html and "+353861234567" not in json.dumps(report)
    assert REDACTED in html


def test_portability_package_has_json_and_csv_per_category_and_a_true_manifest(person, other):
    out = io.BytesIO()
    manifest = portability_package_write(subject=person.subject, zip_file=out)

    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        assert json.loads(archive.read("manifest.json")) == manifest
        members = {name: archive.read(name) for name in names}
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in archive.infolist())
    stems = {slugify(category) for category in registry.categories()}
    assert set(names) == {f"{s}.{ext}" for s in stems for ext in ("json", "csv")} | {
        "manifest.json"
    }
    assert manifest["schema_version"] == "1"
    assert manifest["subject"] == person.subject.ref
    assert {f["name"] for f in manifest["files"]} == set(names) - {"manifest.json"}
    for entry in manifest["files"]:
        content = members[entry["name"]]
        assert entry["sha256"] == hashlib.sha256(content).hexdigest()
        assert entry["bytes"] == len(content)

    account = json.loads(members["account-and-profile.json"])
    assert account["category"] == "Account and profile"
    assert account["purpose"] and account["retention"] and account["source"]
    assert len(account["records"]) == 3
    rows = list(csv.DictReader(io.StringIO(members["account-and-profile.csv"].decode())))
    assert [r["model"] for r in rows] == [
        "account.EmailAddress",
        "account.EmailConfirmation",
        "accounts.User",
    ]
    header = members["account-and-profile.csv"].decode().splitlines()[0].split(",")
    assert header[:3] == ["model", "id", "email"]  # EmailAddress's fields come first
    assert {"username", "full_name", "verified", "created"} <= set(header)
    user_row = rows[2]
    assert user_row["full_name"] == person.user.full_name
    assert user_row["phone"] == "+353861234567"
    assert user_row["verified"] == ""  # not a field of users
    assert rows[0]["verified"] == "true"
    counts = {f["name"]: f["records"] for f in manifest["files"]}
    assert counts["restrictions-and-objections.csv"] == 2
    assert "grace" not in b"".join(members.values()).decode().lower()


def test_portability_package_honours_redactions(person):
    out = io.BytesIO()
    portability_package_write(
        subject=person.subject,
        zip_file=out,
        redactions={"accounts.User": {str(person.user.pk): ["full_name"]}},
    )
    with zipfile.ZipFile(out) as archive:
        account = json.loads(archive.read("account-and-profile.json"))
        table = archive.read("account-and-profile.csv").decode()
    [user] = [r for r in account["records"] if r["model"] == "accounts.User"]
    assert user["fields"]["full_name"] == REDACTED
    assert user["fields"]["email"] == "ada@example.org"
    assert "Lovelace" not in table and f",{REDACTED}," in table


def test_export_values_are_plain_data():
    from decimal import Decimal

    from django.db import models

    assert export_value(models.DecimalField(), Decimal("10.50")) == "10.50"
    assert export_value(models.FileField(), None) == ""
    assert export_value(models.JSONField(), {"a": [1]}) == {"a": [1]}
    when = timezone.now()
    assert export_value(models.DateTimeField(), when) == when.isoformat()
    assert export_value(models.BinaryField(), b"\x00\x01") == "AAE="


def test_binary_files_get_utf8(person, tmp_path):
    with (tmp_path / "r.json").open("wb") as j, (tmp_path / "r.html").open("wb") as h:
        access_report_write(subject=person.subject, json_file=j, html_file=h)
    report = json.loads((tmp_path / "r.json").read_text("utf-8"))
    assert report["subject"] == person.subject.ref
    assert (tmp_path / "r.html").read_text("utf-8").rstrip().endswith("</html>")


# --- Flat memory and bounded queries --------------------------------------------------------------


def add_blocks(user, count):
    ProcessingBlock.objects.bulk_create(
        ProcessingBlock(kind="objection", user=user, purpose=f"purpose-{i}", reason="x" * 200)
        for i in range(count)
    )


def peak_memory(write):
    tracemalloc.start()
    try:
        write()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def write_both(subject, tmp_path, chunk_size):
    with (
        (tmp_path / "r.json").open("w") as j,
        (tmp_path / "r.html").open("w") as h,
    ):
        access_report_write(subject=subject, json_file=j, html_file=h, chunk_size=chunk_size)
    portability_package_write(subject=subject, zip_file=tmp_path / "p.zip", chunk_size=chunk_size)


def test_memory_stays_flat_as_rows_grow(person, tmp_path):
    chunk = 100
    write_both(person.subject, tmp_path, chunk)  # warm caches before measuring
    add_blocks(person.user, 200)
    small = peak_memory(lambda: write_both(person.subject, tmp_path, chunk))
    add_blocks(person.user, 1800)
    large = peak_memory(lambda: write_both(person.subject, tmp_path, chunk))
    assert ProcessingBlock.objects.filter(user=person.user).count() == 2001
    # Ten times the rows: if the output were built in memory, the peak would grow about tenfold.
    assert large < small * 1.5 + 100_000, (small, large)


def test_queries_grow_with_chunks_not_rows(person, tmp_path, django_assert_max_num_queries):
    add_blocks(person.user, 2000)
    chunk = 500
    entries = len(registry.entries())
    chunks = math.ceil(2002 / chunk)
    # A server-side cursor per model (and a few lookups); a query per row would be thousands.
    with django_assert_max_num_queries(entries * chunks + 5):
        counts, _report, _html = write_report(person.subject, chunk_size=chunk)
    assert counts["dsar.ProcessingBlock"] == 2002
    with django_assert_max_num_queries(entries * chunks + 5):
        portability_package_write(subject=person.subject, zip_file=tmp_path / "p.zip")


def test_a_redaction_of_an_unknown_field_is_refused_before_anything_is_written(person):
    json_file, html_file = io.StringIO(), io.StringIO()
    with pytest.raises(ValueError, match="no exported field"):
        access_report_write(
            subject=person.subject,
            json_file=json_file,
            html_file=html_file,
            redactions={"accounts.User": {str(person.user.pk): ["phon"]}},
        )
    assert json_file.getvalue() == html_file.getvalue() == ""
    with pytest.raises(ValueError, match="holds no exported personal data"):
        portability_package_write(
            subject=person.subject, zip_file=io.BytesIO(), redactions={"auth.Group": {}}
        )


def test_each_row_is_exactly_what_the_generic_formatting_gives(person):
    """Exports format rows with a converter chosen per column and a plain HTML escape: for every
    row of every model, the JSON record and the HTML table row must be exactly what the generic
    `export_value` and Django's `escape` make of the stored values."""
    from django.utils.html import escape

    from dsar.exports import _cell, export_columns, export_entry_converters

    counts, report, html = write_report(person.subject)
    exported = records_by_model(report)
    checked = 0
    for entry in registry.entries():
        columns = export_columns(entry)
        rows = (
            entry.rows_for(person.subject)
            .order_by("pk")
            .values_list("pk", *(f.attname for _n, f in columns))
        )
        expected = []
        # An entry's export_words (ids in words) stand in for the generic value of their fields.
        converters = export_entry_converters(entry)
        for pk, *values in rows:
            pairs = zip(columns, converters, values, strict=True)
            fields = {
                name: convert(v) if name in entry.export_words else export_value(f, v)
                for (name, f), convert, v in pairs
            }
            row_id = export_value(entry.model._meta.pk, pk) if entry.export_row_id else None
            expected.append({"model": entry.label, "id": row_id, "fields": fields})
            cells = "".join(f"<td>{escape(_cell(fields[n]))}</td>" for n, _f in columns)
            assert f'<tr><th scope="row">{escape(_cell(row_id))}</th>{cells}</tr>\n' in html
        assert [json.dumps(r) for r in exported.get(entry.label, [])] == [
            json.dumps(r) for r in expected
        ]
        checked += len(expected)
    assert checked == sum(counts.values()) > 0


# --- Awkward values, and nobody else's rows -------------------------------------------------------

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
NASTY_JSON = [
    {},
    [],
    {"a": None, "b": [None, 1, "x"], "c": {"d": None}},
    {"html": "<b>&'\"</b>", "esc": 'tab\tnl\nquote"back\\', "u": "ü🙂\u2028", "ctl": "\x01"},
    {"price": 1.50, "ratio": 0.1, "dot in key.x": 1},
    "a bare string, with: separators",
    42,
    True,
]


def add_nasty_submissions(person, marker=""):
    from consent.models import FormSubmission

    now = timezone.now()
    FormSubmission.objects.bulk_create(
        FormSubmission(
            kind=FormSubmission.Kind.choices[0][0],
            user=person.user,
            email=person.user.email,
            name=marker + text,
            company_name=NASTY_TEXT[(i + 3) % len(NASTY_TEXT)],
            message=text * 2,
            details=NASTY_JSON[i % len(NASTY_JSON)],
            purpose="p",
            source="/forms/<x>",
            created_at=now.replace(microsecond=0) if i % 2 else now,
            retain_until=now + timezone.timedelta(days=i + 1),
            from_child=bool(i % 3),
        )
        for i, text in enumerate(NASTY_TEXT * 3)
    )


def test_awkward_values_come_back_exactly_in_json_and_escaped_in_html(person):
    """Whatever a person typed (HTML, quotes, control characters, unicode, JSON of any shape)
    is in the JSON document as stored, and in the HTML page escaped, in small chunks too."""
    from consent.models import FormSubmission

    add_nasty_submissions(person)
    counts, report, html = write_report(person.subject, chunk_size=7)
    assert counts["consent.FormSubmission"] == len(NASTY_TEXT) * 3
    stored = {
        pk: (name, message, details)
        for pk, name, message, details in FormSubmission.objects.filter(
            user=person.user
        ).values_list("pk", "name", "message", "details")
    }
    found = records_by_model(report)["consent.FormSubmission"]
    assert [r["id"] for r in found] == sorted(stored)
    for record in found:
        name, message, details = stored[record["id"]]
        assert (record["fields"]["name"], record["fields"]["message"]) == (name, message)
        assert record["fields"]["details"] == details
    assert "<script>alert('x')" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quoted&quot;" in html
    page = _Structure()
    page.feed(html)
    page.close()
    assert page.open == []


def test_another_persons_rows_never_appear(person, other):
    from consent.models import FormSubmission

    add_nasty_submissions(other, marker="GRACE-ONLY ")
    assert FormSubmission.objects.filter(user=other.user).exists()
    _counts, report, html = write_report(person.subject)
    text = json.dumps(report, ensure_ascii=False)
    assert "GRACE-ONLY" not in text and "GRACE-ONLY" not in html
    assert other.user.email not in text and other.user.email not in html
