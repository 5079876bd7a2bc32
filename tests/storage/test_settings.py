"""Where each run keeps its files: production in the bucket its environment names (and it does
not start without one), the embedded default on the local disk; the deploy check says when a
production setting would keep files on one machine or make them readable without our views."""

import os
import subprocess
import sys

import pytest
from django.core.files.storage import FileSystemStorage

from dsar.checks import check_files_in_shared_private_storage
from tests.conftest import ROOT
from workpex_portal.settings.base import object_storage

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "workpex_portal.settings.production",
    "SECRET_KEY": "x" * 60,
    "DATABASE_URL": "sqlite:///:memory:",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
}
SHOW_STORAGE = (
    "import django; django.setup(); from django.core.files.storage import storages; "
    "s = storages['default']; "
    "print(type(s).__name__, s.bucket_name, s.endpoint_url, s.default_acl, s.file_overwrite)"
)


def run_settings(env: dict, code: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("STORAGE_")}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_keeps_files_in_the_bucket_its_environment_names():
    env = {
        **PRODUCTION,
        "STORAGE_BUCKET": "workpex-files",
        "STORAGE_ENDPOINT_URL": "https://objects.example",
    }
    out = run_settings(env, SHOW_STORAGE)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [
        "S3Storage",
        "workpex-files",
        "https://objects.example",
        "private",
        "False",
    ]


def test_production_does_not_start_without_a_bucket():
    out = run_settings(PRODUCTION, SHOW_STORAGE)
    assert out.returncode != 0
    assert "STORAGE_BUCKET" in out.stderr


def test_the_embedded_default_keeps_files_on_the_local_disk():
    env = {"DJANGO_SETTINGS_MODULE": "workpex_portal.settings.local"}
    code = (
        "import django; django.setup(); from django.core.files.storage import storages; "
        "print(type(storages['default']).__name__)"
    )
    out = run_settings(env, code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["FileSystemStorage"]


@pytest.mark.s3
def test_the_deploy_check_accepts_private_shared_storage(s3_bucket):
    assert check_files_in_shared_private_storage() == []


def test_the_deploy_check_warns_of_files_on_one_machine(settings):
    from django.core.files.storage import storages

    assert isinstance(storages["default"], FileSystemStorage)
    assert [m.id for m in check_files_in_shared_private_storage()] == ["dsar.W001"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [("STORAGE_DEFAULT_ACL", "public-read"), ("STORAGE_DEFAULT_ACL", "authenticated-read")],
)
def test_the_deploy_check_refuses_objects_readable_by_others(
    settings, monkeypatch, variable, value
):
    monkeypatch.setenv("STORAGE_BUCKET", "workpex-files")
    monkeypatch.setenv(variable, value)
    settings.STORAGES = {**settings.STORAGES, "default": object_storage()}
    assert [m.id for m in check_files_in_shared_private_storage()] == ["dsar.E003"]


def test_the_deploy_check_refuses_unsigned_urls(settings, monkeypatch):
    monkeypatch.setenv("STORAGE_BUCKET", "workpex-files")
    storage = object_storage()
    storage["OPTIONS"]["querystring_auth"] = False
    settings.STORAGES = {**settings.STORAGES, "default": storage}
    assert [m.id for m in check_files_in_shared_private_storage()] == ["dsar.E003"]
