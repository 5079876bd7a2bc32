import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from accounts.models import User
from tests.accounts.factories import UserFactory

from .test_services import gps_exif, make_image


def profile_data(**overrides):
    data = {
        "full_name": "Nora Nolan",
        "phone": "+44 20 7946 0958",
        "company_name": "Nolan & Co",
        "country": "GB",
        "time_zone": "Europe/Berlin",
        "language": "de",
    }
    data.update(overrides)
    return data


def photo_upload(content=None, name="me.jpg"):
    return SimpleUploadedFile(name, content or make_image(exif=gps_exif()), "image/jpeg")


@pytest.mark.django_db
def test_profile_needs_login(client):
    response = client.get("/accounts/profile/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_profile_shows_and_saves_every_field(user_client, user):
    page = user_client.get("/accounts/profile/").content.decode()
    for name in ("full_name", "phone", "company_name", "country", "photo", "time_zone", "language"):
        assert f'name="{name}"' in page
    response = user_client.post("/accounts/profile/", {**profile_data(), "photo": photo_upload()})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.full_name == "Nora Nolan"
    assert user.time_zone == "Europe/Berlin" and user.language == "de"
    assert user.photo.name.startswith("profile-photos/") and user.photo.name.endswith(".jpg")
    stored = Image.open(user.photo.path)
    assert not stored.getexif()


@pytest.mark.django_db
def test_optional_fields_can_be_cleared(user_client, user, django_capture_on_commit_callbacks):
    user_client.post("/accounts/profile/", {**profile_data(), "photo": photo_upload()})
    user.refresh_from_db()
    old_photo = user.photo.path
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(
            "/accounts/profile/",
            profile_data(phone="", time_zone="", language="", remove_photo="on"),
        )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.phone, user.time_zone, user.language, user.photo.name) == ("", "", "", "")
    assert not os.path.exists(old_photo)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"full_name": ""}, "This field is required."),
        ({"time_zone": "Mars/Olympus_Mons"}, "Select a valid choice."),
        ({"language": "xx"}, "Select a valid choice."),
        (
            {"photo": SimpleUploadedFile("x.jpg", b"GIF89a not really", "image/jpeg")},
            "Upload a valid image",
        ),
        (
            {"photo": SimpleUploadedFile("x.svg", b"<svg onload=alert(1)>", "image/svg+xml")},
            "Upload a valid image",
        ),
    ],
)
def test_bad_profile_input_changes_nothing(user_client, user, overrides, message):
    before = User.objects.values().get(pk=user.pk)
    response = user_client.post("/accounts/profile/", {**profile_data(), **overrides})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert User.objects.values().get(pk=user.pk) == before


@pytest.mark.django_db
def test_oversized_photo_is_refused(user_client, user, settings):
    settings.ACCOUNTS_PHOTO_MAX_PIXELS = 50
    response = user_client.post(
        "/accounts/profile/",
        {**profile_data(), "photo": photo_upload(make_image(size=(80, 80)))},
    )
    assert "at most 50 pixels" in response.content.decode()
    user.refresh_from_db()
    assert not user.photo


@pytest.mark.django_db
def test_profile_post_without_csrf_is_refused(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/accounts/profile/", profile_data())
    assert response.status_code == 403
    user.refresh_from_db()
    assert user.full_name != "Nora Nolan"


@pytest.mark.django_db
def test_interface_follows_the_users_language_and_time_zone(user_client, user):
    user.language, user.time_zone = "de", "Asia/Tokyo"
    user.save()
    response = user_client.get("/accounts/profile/")
    assert response["Content-Language"] == "de"
    page = response.content.decode()
    assert "Mein Profil" in page
    assert "Asia/Tokyo" in page


@pytest.mark.django_db
def test_photo_is_served_only_to_its_owner(user_client, user, client):
    user_client.post("/accounts/profile/", {**profile_data(), "photo": photo_upload()})
    response = user_client.get("/accounts/profile/photo/")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(b"".join(response.streaming_content))).format == "JPEG"

    other = Client()
    other.force_login(UserFactory())
    assert other.get("/accounts/profile/photo/").status_code == 404
    assert Client().get("/accounts/profile/photo/").status_code == 302
