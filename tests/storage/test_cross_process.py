"""An export built by one process and served by another that shares nothing with it but the
database and the bucket, as a worker machine and a web machine do in production: the builder
runs in its own Python process with its own MEDIA_ROOT and temporary folder, and this process
(another MEDIA_ROOT) serves the person's download."""

import json
import os
import subprocess
import sys

import pytest
from django.db import connection
from django.test import Client

from dsar import services
from dsar.models import ExportFile, RequestKind
from tests.accounts.factories import UserFactory
from tests.conftest import ROOT, _database_url
from tests.dsar.people import make_person

from .conftest import files_on_disk

# The builder reads the rows this test writes, so they are committed (and the tables emptied,
# then the migrations' data put back, at the end).
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.s3]

BUILD = (
    "import sys, django; django.setup(); from dsar import services; "
    "sys.exit(0 if services.export_build(export_id=int(sys.argv[1])) else 1)"
)


def test_an_export_built_in_another_process_is_downloaded_here(s3_bucket, settings, tmp_path):
    person = make_person(
        username="ada", full_name="Ada Lovelace", phone="+353861234567", staff=UserFactory()
    )
    request, _ = services.dsar_request_file(kind=RequestKind.ACCESS, user=person.user)
    request = services.dsar_request_transition(request=request, to_state="in_progress", actor=None)
    services.dsar_request_apply(request=request, actor=None)
    export = request.exports.get()

    builder_media, builder_tmp = tmp_path / "builder-media", tmp_path / "builder-tmp"
    builder_tmp.mkdir()
    assert builder_media != settings.MEDIA_ROOT
    env = {
        **os.environ,
        **s3_bucket.env,
        "DJANGO_SETTINGS_MODULE": "workpex_portal.settings.test",
        "DATABASE_URL": _database_url(connection.settings_dict),
        "MEDIA_ROOT": str(builder_media),
        "TMPDIR": str(builder_tmp),
    }
    subprocess.run(
        [sys.executable, "-c", BUILD, str(export.pk)], cwd=ROOT, env=env, check=True, timeout=120
    )

    export.refresh_from_db()
    assert export.state == ExportFile.State.READY
    assert s3_bucket.keys("exports/") == sorted([export.file.name, export.data_file.name])
    # Nothing on either process's disk: the bucket is the only place the files are.
    assert files_on_disk(builder_media) == files_on_disk(builder_tmp) == []
    assert files_on_disk(settings.MEDIA_ROOT) == []

    services.export_release(export=export, actor=None)
    owner = Client()
    owner.force_login(person.user)
    response = owner.get(f"/privacy/exports/{export.public_id}/report.json")
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert content == s3_bucket.read(export.data_file.name)
    assert json.loads(content)["subject"] == f"user:{person.user.pk}"
