"""Each system's part of an access or portability request (issue 18.3, 18.5): a job row that
reads the person's rows into a data file, run by a worker (retried, idempotent); a task done by
hand whose note reaches the report; the packages are built only when every part is done, and
hold each system's data with its categories; the read data goes with the packages, and with an
erasure of the person."""

import json
import zipfile

import pytest
import sqlalchemy as sa
from django.core.files.storage import default_storage
from django.utils import timezone

from datastores import services
from datastores.engine import engine_open
from datastores.models import SystemPart
from dsar import services as dsar_services
from dsar.models import DataSubjectRequest, ExportFile, RequestKind

from .shop import ALICE, BOB, shop_create
from .systems import LATER, alice, erasure_run, in_progress, manual_system, sql_system

pytestmark = pytest.mark.django_db

WAITS = "The person's data in the connected systems is still being read."


def _applied(person, kind):
    request = in_progress(person, kind)
    dsar_services.dsar_request_apply(request=request, actor=None)
    return request


def _report(export) -> dict:
    export.refresh_from_db()
    return json.loads(export.data_file.read())


def test_the_packages_wait_for_each_systems_part_and_hold_its_data(sqlite_url):
    shop_create(sqlite_url)
    system = sql_system(sqlite_url, name="Shop")
    person = alice()
    for kind in (RequestKind.ACCESS, RequestKind.PORTABILITY):
        request = _applied(person, kind)
        export = request.exports.get()
        part = SystemPart.objects.get(request=request, system=system)
        assert part.kind == SystemPart.Kind.ACCESS and part.state == SystemPart.State.PENDING
        assert part.identities["email"] == [ALICE]
        assert not dsar_services.export_build(export_id=export.pk)  # waits for the part
        export.refresh_from_db()
        assert export.state == ExportFile.State.PENDING and export.attempts == 0
        assert WAITS in dsar_services.request_completion_blockers(request)

        assert services.system_part_run(part_id=part.pk)
        part.refresh_from_db()
        assert part.state == SystemPart.State.DONE and part.identities == {}
        assert part.counts == {"customers": 1, "orders": 2, "order_items": 3}
        assert part.data_file
        assert not services.system_part_run(part_id=part.pk)  # a repeat does nothing
        assert WAITS not in dsar_services.request_completion_blockers(request)

        assert dsar_services.export_build(export_id=export.pk)
        export.refresh_from_db()
        assert export.state == ExportFile.State.READY
        if kind == RequestKind.ACCESS:
            sections = {s["collection"]: s for s in _report(export)["connected_systems"]}
            html = export.file.read().decode()
            assert "Alice Liddell" in html and "email (user.contact.email)" in html
        else:
            with zipfile.ZipFile(export.file) as package:
                names = [n for n in package.namelist() if n.startswith("system-")]
                sections = {
                    s["collection"]: s for s in (json.loads(package.read(n)) for n in names)
                }
                manifest = json.loads(package.read("manifest.json"))
            assert {f["category"] for f in manifest["files"]} >= {"Shop / customers"}
        assert sections["customers"]["system"] == "Shop"
        assert sections["customers"]["categories"]["email"] == ["user.contact.email"]
        assert sections["customers"]["records"] == [
            {"id": 1, "email": ALICE, "name": "Alice Liddell", "phone": "+441234567"}
        ]
        assert [r["id"] for r in sections["orders"]["records"]] == [10, 11]
        assert len(sections["order_items"]["records"]) == 3
        assert BOB not in json.dumps(sections)


def test_a_rebuilt_package_reads_the_part_again_not_the_system(sqlite_url):
    """A redaction rebuilds the report from what the part read; the system is not asked twice
    (its rows may have changed since, and the report says what was read at the time)."""
    shop_create(sqlite_url)
    system = sql_system(sqlite_url)
    request = _applied(alice(), RequestKind.ACCESS)
    services.system_part_run(part_id=SystemPart.objects.get(request=request).pk)
    export = request.exports.get()
    assert dsar_services.export_build(export_id=export.pk)
    with engine_open(sqlite_url).begin() as conn:
        conn.execute(sa.text("UPDATE customers SET name = 'Changed' WHERE id = 1"))
    dsar_services.exports_create(request=request)  # asked again: nothing new
    assert SystemPart.objects.filter(request=request, system=system).count() == 1
    ExportFile.objects.filter(pk=export.pk).update(state=ExportFile.State.PENDING)
    assert dsar_services.export_build(export_id=export.pk)
    (customer,) = next(
        s for s in _report(export)["connected_systems"] if s["collection"] == "customers"
    )["records"]
    assert customer["name"] == "Alice Liddell"


def test_a_failing_read_is_retried_and_the_package_waits(pg_url):
    shop_create(pg_url)
    sql_system(pg_url)
    request = _applied(alice(), RequestKind.ACCESS)
    part = SystemPart.objects.get(request=request)
    with engine_open(pg_url).begin() as conn:
        conn.execute(sa.text("ALTER TABLE orders RENAME TO orders_gone"))
    try:
        assert not services.system_part_run(part_id=part.pk)
        part.refresh_from_db()
        assert part.state == SystemPart.State.FAILED and "orders" in part.last_error
        assert not part.data_file
        assert not dsar_services.export_build(export_id=request.exports.get().pk)
    finally:
        with engine_open(pg_url).begin() as conn:
            conn.execute(sa.text("ALTER TABLE orders_gone RENAME TO orders"))
    SystemPart.objects.filter(pk=part.pk).update(next_attempt_at=timezone.now())
    assert services.system_part_run(part_id=part.pk)
    assert dsar_services.export_build(export_id=request.exports.get().pk)


def test_a_system_done_by_hand_is_a_task_whose_note_reaches_the_report(sqlite_url):
    shop_create(sqlite_url)
    sql = sql_system(sqlite_url)
    paper = manual_system()
    request = _applied(alice(), RequestKind.ACCESS)
    services.system_part_run(part_id=SystemPart.objects.get(system=sql, request=request).pk)
    task = SystemPart.objects.get(request=request, system=paper)
    assert task.kind == SystemPart.Kind.ACCESS and task.state == SystemPart.State.MANUAL
    assert task.due_at > timezone.now()
    export = request.exports.get()
    assert not dsar_services.export_build(export_id=export.pk)
    assert "Connected systems done by hand still wait for someone to confirm them." in (
        dsar_services.request_completion_blockers(request)
    )
    erasure = SystemPart(request=request, system=paper, kind=SystemPart.Kind.ERASURE)
    with pytest.raises(services.DatasetError, match="Only a part of an access request"):
        services.system_part_confirm(
            part=erasure, confirmation="x", data=[{"collection": "c", "rows": [{"a": 1}]}]
        )
    services.system_part_confirm(
        part=task, actor=None, confirmation="Three paper order forms, copies posted to you."
    )
    assert dsar_services.export_build(export_id=export.pk)
    report = _report(export)
    note = next(s for s in report["connected_systems"] if s["system"] == "Paper archive")
    assert note == {
        "system": "Paper archive",
        "collection": "",
        "categories": {},
        "note": "Three paper order forms, copies posted to you.",
        "records": [],
    }
    html = export.file.read().decode()
    assert "<h3>Paper archive</h3>\n<p>Three paper order forms, copies posted to you.</p>" in html


def test_the_read_data_goes_with_the_packages(sqlite_url):
    shop_create(sqlite_url)
    sql_system(sqlite_url)
    request = _applied(alice(), RequestKind.ACCESS)
    part = SystemPart.objects.get(request=request)
    services.system_part_run(part_id=part.pk)
    export = request.exports.get()
    assert dsar_services.export_build(export_id=export.pk)
    part.refresh_from_db()
    name = part.data_file.name
    assert default_storage.exists(name)
    export.refresh_from_db()
    assert dsar_services.exports_sweep(now=export.expires_at + LATER)["deleted"] == 1
    part.refresh_from_db()
    assert not part.data_file and not default_storage.exists(name)


def test_an_erasure_of_the_person_deletes_what_an_access_part_read(
    sqlite_url, django_capture_on_commit_callbacks
):
    shop_create(sqlite_url)
    sql_system(sqlite_url)
    person = alice()
    access = _applied(person, RequestKind.ACCESS)
    part = SystemPart.objects.get(request=access)
    services.system_part_run(part_id=part.pk)
    part.refresh_from_db()
    name = part.data_file.name
    DataSubjectRequest.objects.filter(pk=access.pk).update(
        state="completed", closed_at=timezone.now()
    )
    with django_capture_on_commit_callbacks(execute=True):  # files go once the rows are erased
        erasure_run(in_progress(person, RequestKind.ERASURE))
    part.refresh_from_db()
    assert not part.data_file
    assert not default_storage.exists(name)
