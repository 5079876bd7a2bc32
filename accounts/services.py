"""Every write to an account, and the rules that go with it."""

import io
from datetime import date

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from .app_settings import app_settings
from .models import User

ACCEPTED_PHOTO_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
SIGNUP_FIELDS = ("full_name", "phone", "company_name", "country", "date_of_birth")
PROFILE_FIELDS = (
    "full_name",
    "phone",
    "company_name",
    "country",
    "region",
    "time_zone",
    "language",
)


def age_on(*, date_of_birth: date, on: date) -> int:
    """Whole years of age on a day; someone born on 29 February turns a year older on 1 March."""
    had_birthday = (on.month, on.day) >= (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - (0 if had_birthday else 1)


def user_is_old_enough(*, date_of_birth: date, on: date | None = None) -> bool:
    on = on or timezone.localdate()
    return age_on(date_of_birth=date_of_birth, on=on) >= app_settings.MINIMUM_AGE


def user_apply_signup(*, user: User, data: dict) -> User:
    """Fill a new (unsaved) user from a validated signup form. Refuses anyone under the age gate."""
    if not user_is_old_enough(date_of_birth=data["date_of_birth"]):
        raise ValidationError(_("You must be at least 16 years old to create an account."))
    for name in SIGNUP_FIELDS:
        setattr(user, name, data.get(name) or "")
    user.date_of_birth = data["date_of_birth"]
    return user


@transaction.atomic
def user_profile_update(*, user: User, data: dict) -> User:
    """Change what a user edits on their profile; blank clears an optional field.

    ``data["photo"]`` is an upload to store, False to remove the photo, or absent/None to keep it.
    """
    for name in PROFILE_FIELDS:
        if name in data:
            value = data[name]
            setattr(user, name, value if value is not None else "")
    user.full_clean(exclude=["password", "photo"])
    user.save(update_fields=list(PROFILE_FIELDS))
    photo = data.get("photo")
    if photo is False:
        user_photo_clear(user=user)
    elif isinstance(photo, UploadedFile):
        user_photo_set(user=user, upload=photo)
    return user


def photo_validate(upload: UploadedFile) -> Image.Image:
    """Open an upload as a real image within the limits, or raise a ValidationError saying why."""
    if upload.size > app_settings.PHOTO_MAX_BYTES:
        raise ValidationError(
            _("The photo is too large: the limit is %(mb)d MB.")
            % {"mb": app_settings.PHOTO_MAX_BYTES // (1024 * 1024)}
        )
    try:
        upload.seek(0)
        image = Image.open(upload)
        image_format = image.format
        width, height = image.size
        if max(width, height) > app_settings.PHOTO_MAX_PIXELS:
            raise ValidationError(
                _("The photo is too big: at most %(px)d pixels on its longest side.")
                % {"px": app_settings.PHOTO_MAX_PIXELS}
            )
        image.verify()  # checks the file's structure; the image must be reopened after this
        upload.seek(0)
        image = Image.open(upload)
        image.load()
    except ValidationError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError):
        raise ValidationError(
            _("This file is not a photo we can read. Upload a JPEG, PNG, WebP or GIF image.")
        ) from None
    if image_format not in ACCEPTED_PHOTO_FORMATS:
        raise ValidationError(_("Upload a JPEG, PNG, WebP or GIF image."))
    return image


def photo_reencode(image: Image.Image, *, longest_side: int | None = None) -> bytes:
    """A fresh JPEG of the picture alone: no EXIF (GPS, camera, dates), no other metadata, at
    most `longest_side` pixels on its longest side (the stored photo size by default)."""
    image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, "white")
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    side = longest_side or app_settings.PHOTO_STORED_PIXELS
    image.thumbnail((side, side))
    # Only the pixels go on: Pillow would carry the upload's comment (and other `info`) into
    # the new file, and a comment can hold HTML or script (a polyglot).
    image = Image.frombytes(image.mode, image.size, image.tobytes())
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


def user_photo_set(*, user: User, upload: UploadedFile) -> User:
    image = photo_validate(upload)
    content = photo_reencode(image)
    old_name = user.photo.name
    user.photo.save("photo.jpg", ContentFile(content), save=False)
    user.save(update_fields=["photo"])
    _delete_file_after_commit(user, old_name)
    return user


def user_photo_clear(*, user: User) -> User:
    old_name = user.photo.name
    user.photo = ""
    user.save(update_fields=["photo"])
    _delete_file_after_commit(user, old_name)
    return user


def _delete_file_after_commit(user: User, name: str) -> None:
    if name:
        storage = user.photo.storage
        transaction.on_commit(lambda: storage.delete(name))


def _normalise_answer(answer: str) -> str:
    return " ".join(answer.split()).casefold()


def user_security_question_set(*, user: User, question: str, answer: str) -> User:
    answer = _normalise_answer(answer)
    if not question or not answer:
        raise ValidationError(_("Choose a question and give its answer."))
    user.security_question = question
    user.security_answer_hash = make_password(answer)
    user.full_clean(exclude=["password", "photo"])
    user.save(update_fields=["security_question", "security_answer_hash"])
    return user


def user_security_question_clear(*, user: User) -> User:
    user.security_question = ""
    user.security_answer_hash = ""
    user.save(update_fields=["security_question", "security_answer_hash"])
    return user


def user_security_answer_check(*, user: User, answer: str) -> bool:
    """Used only by the password-reset flow, as an extra check."""
    if not user.has_security_question:
        return True
    return check_password(_normalise_answer(answer or ""), user.security_answer_hash)


# What a person cannot change on their profile, and so asks an officer to correct.
RECTIFIABLE_FIELDS = ("date_of_birth", "username")


@transaction.atomic
def user_rectify(*, user: User, field: str, value: str) -> User:
    """Apply a correction a privacy officer approved, with the same checks as any other edit."""
    if field not in RECTIFIABLE_FIELDS:
        raise ValidationError(_("This field cannot be corrected this way."))
    model_field = User._meta.get_field(field)
    setattr(user, field, model_field.to_python(value.strip()))
    user.full_clean(exclude=["password", "photo"])
    user.save(update_fields=[field])
    return user
