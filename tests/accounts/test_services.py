import io
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts import services


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(2000, 6, 15), date(2016, 6, 14), 15),
        (date(2000, 6, 15), date(2016, 6, 15), 16),
        (date(2008, 2, 29), date(2024, 2, 28), 15),  # leap-day birthday, leap year
        (date(2008, 2, 29), date(2024, 2, 29), 16),
        (date(2008, 2, 29), date(2025, 2, 28), 16),
        (date(2009, 2, 28), date(2025, 2, 27), 15),
        (date(2010, 1, 1), date(2025, 12, 31), 15),
    ],
)
def test_age_on(born, on, age):
    assert services.age_on(date_of_birth=born, on=on) == age


def test_age_gate_refuses_under_16_in_the_service_too():
    from accounts.models import User

    with pytest.raises(ValidationError):
        services.user_apply_signup(
            user=User(),
            data={"date_of_birth": date.today().replace(year=date.today().year - 10)},
        )


def make_image(fmt="JPEG", size=(64, 48), exif=None, mode="RGB") -> bytes:
    out = io.BytesIO()
    image = Image.new(mode, size, "red")
    kwargs = {"exif": exif} if exif is not None else {}
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


def gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    gps = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    exif[0x8825] = gps  # GPSInfo
    return exif


def upload(content: bytes, name="photo.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_reencoded_photo_has_no_exif_or_gps():
    original = make_image(exif=gps_exif())
    assert Image.open(io.BytesIO(original)).getexif().get(0x8825)
    image = services.photo_validate(upload(original))
    stored = Image.open(io.BytesIO(services.photo_reencode(image)))
    assert stored.format == "JPEG"
    assert not stored.getexif()
    assert "exif" not in stored.info


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "GIF"])
def test_other_image_types_are_accepted_and_stored_as_jpeg(fmt):
    mode = "RGBA" if fmt in ("PNG", "WEBP") else "P"
    image = services.photo_validate(upload(make_image(fmt, mode=mode)))
    assert Image.open(io.BytesIO(services.photo_reencode(image))).format == "JPEG"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html><script>alert(1)</script></html>", "not a photo we can read"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "not a photo we can read"),
        (make_image("BMP"), "Upload a JPEG, PNG, WebP or GIF image."),
    ],
)
def test_fake_or_unsupported_images_are_refused(content, message):
    with pytest.raises(ValidationError, match=message):
        services.photo_validate(upload(content))


def test_oversized_file_is_refused(settings):
    settings.ACCOUNTS_PHOTO_MAX_BYTES = 1000
    with pytest.raises(ValidationError, match="too large"):
        services.photo_validate(upload(make_image(size=(400, 400)) + b"\x00" * 2000))


def test_too_many_pixels_is_refused(settings):
    settings.ACCOUNTS_PHOTO_MAX_PIXELS = 100
    with pytest.raises(ValidationError, match="at most 100 pixels"):
        services.photo_validate(upload(make_image(size=(101, 10))))


@pytest.mark.django_db
def test_security_answer_is_hashed_and_normalised(user):
    services.user_security_question_set(user=user, question="first_pet", answer="  Mr  Whiskers ")
    user.refresh_from_db()
    assert "whiskers" not in user.security_answer_hash.lower()
    assert services.user_security_answer_check(user=user, answer="mr whiskers")
    assert not services.user_security_answer_check(user=user, answer="rex")
    services.user_security_question_clear(user=user)
    user.refresh_from_db()
    assert not user.has_security_question


@pytest.mark.django_db
def test_security_question_needs_an_answer(user):
    with pytest.raises(ValidationError):
        services.user_security_question_set(user=user, question="first_pet", answer="   ")
    user.refresh_from_db()
    assert not user.has_security_question


@pytest.mark.parametrize(
    ("born", "old_enough"),
    [
        (date(2010, 3, 11), False),  # turns 16 tomorrow: still a child today
        (date(2010, 3, 10), True),  # 16 today
        (date(2010, 3, 9), True),
    ],
)
def test_old_enough_from_the_16th_birthday_on(born, old_enough):
    assert services.user_is_old_enough(date_of_birth=born, on=date(2026, 3, 10)) is old_enough


def test_old_enough_is_judged_today_by_default():
    from django.utils import timezone

    today = timezone.localdate()
    sixteen_today = (
        today.replace(year=today.year - 16)
        if (today.month, today.day) != (2, 29)
        else date(today.year - 16, 2, 28)
    )
    assert services.user_is_old_enough(date_of_birth=sixteen_today) is True
    assert services.user_is_old_enough(date_of_birth=today.replace(year=today.year - 15)) is False
