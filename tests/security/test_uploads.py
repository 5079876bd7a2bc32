"""Uploads: only real images within the limits are taken, and nothing a person uploaded is ever
served from our origin as something a browser would run."""

import io
import os
import struct
import zlib

import pytest
from django import forms
from django.apps import apps
from django.db import models
from django.test import Client
from PIL import Image

from accounts.models import User
from accounts.workspaces import workspace_create
from tests.accounts.factories import UserFactory
from tests.accounts.test_profile import profile_data
from tests.accounts.test_services import make_image
from tests.accounts.workspace_helpers import workspace_join
from tests.forms_walk import project_form_classes

pytestmark = pytest.mark.django_db

SCRIPT = b"<script>alert(document.domain)</script>"


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge picture in a few bytes: a decompression bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script><rect width='10' height='10'/></svg>"
)


def stored_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_the_profile_photo_is_the_only_upload():
    """A new file field (a model's or a form's) must be reviewed here before it ships."""
    model_fields = {
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.FileField)
        and model._meta.app_label in ("accounts", "consent", "dsar", "ops")
    }
    # The export files are written by the portal itself (never uploaded) and always downloaded.
    assert model_fields == {
        "accounts.User.photo",
        "dsar.ExportFile.file",
        "dsar.ExportFile.data_file",
    }
    form_fields = {
        f"{path}.{name}"
        for path, cls in project_form_classes().items()
        for name, field in cls.base_fields.items()
        if isinstance(field, forms.FileField)
    }
    assert form_fields == {"accounts.forms.ProfileForm.photo"}


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        pytest.param(
            b"<html><body>" + SCRIPT + b"</body></html>",
            "me.jpg",
            "image/jpeg",
            id="html-named-jpg",
        ),
        pytest.param(b"GIF89a" + SCRIPT, "me.gif", "image/gif", id="gif-magic-then-html"),
        pytest.param(SVG, "me.svg", "image/svg+xml", id="svg"),
        pytest.param(SVG, "me.jpg", "image/jpeg", id="svg-named-jpg"),
        pytest.param(
            png_header_only(30_000, 30_000), "bomb.png", "image/png", id="decompression-bomb"
        ),
        pytest.param(
            png_header_only(8_000, 8_000), "wide.png", "image/png", id="huge-pixel-dimensions"
        ),
        pytest.param(make_image("BMP"), "me.bmp", "image/bmp", id="not-an-accepted-format"),
        pytest.param(b"", "empty.jpg", "image/jpeg", id="empty"),
    ],
)
def test_a_file_that_is_not_an_accepted_image_is_refused_and_nothing_is_stored(
    user_client, user, settings, content, name, content_type
):
    before = User.objects.values().get(pk=user.pk)
    response = user_client.post(
        "/accounts/profile/",
        {**profile_data(), "photo": _upload(content, name, content_type)},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["photo"]
    assert User.objects.values().get(pk=user.pk) == before
    assert stored_files(settings) == []


def test_too_many_pixels_are_refused(user_client, user, settings):
    settings.ACCOUNTS_PHOTO_MAX_PIXELS = 100
    response = user_client.post(
        "/accounts/profile/", {**profile_data(), "photo": _upload(make_image(size=(101, 20)))}
    )
    assert "at most 100 pixels" in response.content.decode()
    user.refresh_from_db()
    assert not user.photo and stored_files(settings) == []


def test_too_many_bytes_are_refused(user_client, user, settings):
    settings.ACCOUNTS_PHOTO_MAX_BYTES = 10_000
    noisy = Image.frombytes("RGB", (200, 200), os.urandom(200 * 200 * 3))
    out = io.BytesIO()
    noisy.save(out, format="PNG")
    assert len(out.getvalue()) > 10_000
    response = user_client.post(
        "/accounts/profile/", {**profile_data(), "photo": _upload(out.getvalue(), "big.png")}
    )
    assert "too large" in response.content.decode()
    user.refresh_from_db()
    assert not user.photo and stored_files(settings) == []


@pytest.mark.parametrize("content_type", ["text/html", "application/octet-stream", "image/svg+xml"])
def test_the_declared_type_is_ignored_the_content_decides(
    user_client, user, settings, content_type
):
    response = user_client.post(
        "/accounts/profile/",
        {**profile_data(), "photo": _upload(make_image("PNG"), "photo.png", content_type)},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.photo.name.endswith(".jpg") and "photo.png" not in user.photo.name
    assert Image.open(user.photo.path).format == "JPEG"


def test_an_image_carrying_html_is_stored_without_it(user_client, user, settings):
    """A polyglot: a real JPEG with HTML in a comment and after its end. It is a picture, so it
    is taken, but only its pixels are kept: the stored file is a fresh JPEG."""
    out = io.BytesIO()
    Image.new("RGB", (32, 32), "blue").save(out, format="JPEG", comment=SCRIPT)
    polyglot = out.getvalue() + b"<html>" + SCRIPT + b"</html>"
    assert SCRIPT in polyglot
    response = user_client.post(
        "/accounts/profile/", {**profile_data(), "photo": _upload(polyglot, "me.jpg")}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    stored = user.photo.read()
    assert b"<script" not in stored.lower() and b"<html" not in stored.lower()
    served = user_client.get("/accounts/profile/photo/")
    assert b"<script" not in b"".join(served.streaming_content).lower()


def _upload(content: bytes, name: str = "me.jpg", content_type: str = "image/jpeg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


def assert_served_safely(response, *, download: bool = False) -> None:
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert not response["Content-Type"].startswith(("text/html", "image/svg", "application/xhtml"))
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment" if download else ("inline", "attachment"))
    assert "no-store" in response["Cache-Control"]


def test_photos_are_served_as_jpeg_with_nosniff_and_a_disposition(user_client, user):
    user_client.post("/accounts/profile/", {**profile_data(), "photo": _upload(make_image())})
    own = user_client.get("/accounts/profile/photo/")
    assert_served_safely(own)
    assert own["Content-Type"] == "image/jpeg"

    colleague = UserFactory()
    workspace = workspace_create(owner=user, name="Team")
    workspace_join(workspace, user, colleague)
    other = Client()
    other.force_login(colleague)
    shared = other.get(f"/accounts/people/{user.pk}/photo/")
    assert_served_safely(shared)
    assert shared["Content-Type"] == "image/jpeg"


def test_uploads_have_no_public_url(user_client, user, settings):
    user_client.post("/accounts/profile/", {**profile_data(), "photo": _upload(make_image())})
    user.refresh_from_db()
    name = user.photo.name
    assert name and not settings.MEDIA_URL.startswith(("http", "//"))
    for path in (f"/media/{name}", f"/{name}", f"/static/{name}", f"/{settings.MEDIA_URL}{name}"):
        assert Client().get(path.replace("//", "/")).status_code == 404, path
        assert user_client.get(path.replace("//", "/")).status_code == 404, path
