"""A real S3-compatible server for the storage tests: moto's server mode, in its own process,
started once for the run by the first test that needs it. Each test gets an empty bucket of its
own, and the default storage is the production backend (`object_storage`) pointed at it."""

import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

import boto3
import pytest

from workpex_portal.settings.base import object_storage


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("s3") / "moto.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "--host", "127.0.0.1", "--port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait()
                pytest.fail(
                    f"the S3 server (moto) did not start on port {port}:\n"
                    + log.read_text(errors="replace")[-2000:]
                )
            time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Bucket:
    name: str
    env: dict[str, str]  # the STORAGE_* variables that point a process at this bucket
    client: object

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.name, Prefix=prefix
        )
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()


@pytest.fixture
def s3_bucket(s3_endpoint, settings, monkeypatch):
    """An empty bucket, and this process's default storage in it (as in production)."""
    env = {
        "STORAGE_BUCKET": f"workpex-test-{uuid.uuid4().hex[:12]}",
        "STORAGE_ENDPOINT_URL": s3_endpoint,
        "STORAGE_REGION": "us-east-1",
        "STORAGE_ACCESS_KEY_ID": "testing",
        "STORAGE_SECRET_ACCESS_KEY": "testing",
    }
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=env["STORAGE_REGION"],
        aws_access_key_id=env["STORAGE_ACCESS_KEY_ID"],
        aws_secret_access_key=env["STORAGE_SECRET_ACCESS_KEY"],
    )
    client.create_bucket(Bucket=env["STORAGE_BUCKET"])
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings.STORAGES = {**settings.STORAGES, "default": object_storage()}
    return Bucket(name=env["STORAGE_BUCKET"], env=env, client=client)


def files_on_disk(folder) -> list:
    """What a process left on its local disk (nothing, when the files are in the bucket)."""
    from pathlib import Path

    folder = Path(folder)
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
