"""Exports built into and served from S3-compatible object storage (the production backend, on
the moto server the suite starts): the person's download view returns the bytes in the bucket,
with the same checks, headers and audit as on the local disk, and the sweep deletes the objects."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from dsar import services
from dsar.erasure import erasure_erase_subject
from dsar.models import AuditEvent, ExportFile, RequestKind
from dsar.registry import Subject
from tests.accounts.factories import UserFactory
from tests.dsar.people import make_person

from .conftest import files_on_disk

pytestmark = [pytest.mark.django_db, pytest.mark.s3]


def applied(user, kind):
    request, _ = services.dsar_request_file(kind=kind, user=user)
    request = services.dsar_request_transition(request=request, to_state="in_progress", actor=None)
    services.dsar_request_apply(request=request, actor=None)
    return request


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_an_access_report_is_built_into_the_bucket_and_downloaded_through_the_view(
    s3_bucket, settings
):
    person = make_person(
        username="ada", full_name="Ada Lovelace", phone="+353861234567", staff=UserFactory()
    )
    request = applied(person.user, RequestKind.ACCESS)
    export = request.exports.get()
    assert services.export_build(export_id=export.pk)
    export.refresh_from_db()
    assert export.state == ExportFile.State.READY
    folder = f"exports/{export.public_id.hex}/"
    assert s3_bucket.keys(folder) == sorted([export.file.name, export.data_file.name])
    assert files_on_disk(settings.MEDIA_ROOT) == []

    owner = Client()
    owner.force_login(person.user)
    url = f"/privacy/exports/{export.public_id}/report.json"
    assert owner.get(url).status_code == 404  # not released yet
    services.export_release(export=export, actor=None)

    response = owner.get(url)
    assert response.status_code == 200
    content = body(response)
    assert content == s3_bucket.read(export.data_file.name)
    assert json.loads(content)["subject"] == f"user:{person.user.pk}"
    assert int(response["Content-Length"]) == len(content)
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Security-Policy"] == "sandbox"
    html = owner.get(f"/privacy/exports/{export.public_id}/report.html")
    assert body(html) == s3_bucket.read(export.file.name)
    downloads = AuditEvent.objects.filter(action="export_downloaded", object_id=str(export.pk))
    assert sorted(downloads.values_list("detail__part", flat=True)) == [
        "report.html",
        "report.json",
    ]

    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.get(url).status_code == 404
    assert Client().get(url).status_code == 404


def test_a_portable_package_round_trips_and_the_sweep_deletes_it_from_the_bucket(s3_bucket):
    user = UserFactory()
    request = applied(user, RequestKind.PORTABILITY)
    export = request.exports.get()
    assert services.export_build(export_id=export.pk)
    services.export_release(export=export, actor=None)
    export.refresh_from_db()

    client = Client()
    client.force_login(user)
    response = client.get(f"/privacy/exports/{export.public_id}/package.zip")
    assert response.status_code == 200
    content = body(response)
    assert content == s3_bucket.read(export.file.name)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert "manifest.json" in archive.namelist()

    # The objects are private: only the bucket's owner may read them; and a browser that ever
    # reached one directly would save it, not render it.
    grants = s3_bucket.client.get_object_acl(Bucket=s3_bucket.name, Key=export.file.name)
    assert [g["Grantee"]["Type"] for g in grants["Grants"]] == ["CanonicalUser"]
    head = s3_bucket.client.head_object(Bucket=s3_bucket.name, Key=export.file.name)
    assert head["ContentDisposition"] == "attachment"

    result = services.exports_sweep(now=timezone.now() + timedelta(days=30))
    assert result["deleted"] == 1
    export.refresh_from_db()
    assert export.state == ExportFile.State.DELETED and not export.file
    assert s3_bucket.keys("exports/") == []


def test_a_rebuild_replaces_the_objects(s3_bucket):
    """As after a redaction: the package is built again over the first one."""
    person = make_person(
        username="grace", full_name="Grace Hopper", phone="+353871112222", staff=UserFactory()
    )
    request = applied(person.user, RequestKind.ACCESS)
    export = request.exports.get()
    assert services.export_build(export_id=export.pk)
    export.refresh_from_db()
    first = {export.file.name, export.data_file.name}
    export.state = ExportFile.State.PENDING
    export.attempts = 0
    export.save(update_fields=["state", "attempts"])
    assert services.export_build(export_id=export.pk)
    export.refresh_from_db()
    # The old objects were deleted before the new ones were written: no leftover in the bucket.
    assert len(first) == 2
    assert s3_bucket.keys("exports/") == sorted([export.file.name, export.data_file.name])


def test_erasure_deletes_the_persons_exports_from_the_bucket(
    s3_bucket, django_capture_on_commit_callbacks
):
    user, other = UserFactory(), UserFactory()
    for person in (user, other):
        export = applied(person, RequestKind.PORTABILITY).exports.get()
        assert services.export_build(export_id=export.pk)
    kept = ExportFile.objects.get(request__user=other).file.name
    assert len(s3_bucket.keys("exports/")) == 2

    with django_capture_on_commit_callbacks(execute=True):
        erasure_erase_subject(subject=Subject(user_id=user.pk, email=user.email))
    assert s3_bucket.keys("exports/") == [kept]
