import uuid
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from phonenumber_field.modelfields import PhoneNumberField

TIME_ZONE_CHOICES = [(tz, tz.replace("_", " ")) for tz in sorted(zoneinfo.available_timezones())]


class SecurityQuestion(models.TextChoices):
    FIRST_SCHOOL = "first_school", _("What was the name of your first school?")
    FIRST_PET = "first_pet", _("What was the name of your first pet?")
    BIRTH_CITY = "birth_city", _("In which city were you born?")
    CHILDHOOD_FRIEND = "childhood_friend", _("What is the first name of your oldest friend?")
    FIRST_EMPLOYER = "first_employer", _("What was the name of your first employer?")


def photo_upload_to(instance: "User", filename: str) -> str:
    # Never reuse the uploaded name: it can carry personal data and guessable paths.
    return f"profile-photos/{uuid.uuid4().hex}.jpg"


class User(AbstractUser):
    """An account holder. Names are one field: names do not split the same way everywhere."""

    first_name = None
    last_name = None

    full_name = models.CharField(_("full name"), max_length=150)
    email = models.EmailField(_("email address"), unique=True)
    phone = PhoneNumberField(_("phone number"), blank=True)
    company_name = models.CharField(_("company name"), max_length=200)
    country = CountryField(_("country"))
    date_of_birth = models.DateField(_("date of birth"), null=True)

    photo = models.ImageField(_("photo"), upload_to=photo_upload_to, blank=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, blank=True
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )

    security_question = models.CharField(
        _("security question"), max_length=32, choices=SecurityQuestion.choices, blank=True
    )
    # Hashed with the password hashers; the answer itself is never stored.
    security_answer_hash = models.CharField(max_length=256, blank=True, editable=False)

    REQUIRED_FIELDS = ["email", "full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(security_question="", security_answer_hash="")
                    | (~models.Q(security_question="") & ~models.Q(security_answer_hash=""))
                ),
                name="accounts_user_security_question_has_answer",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.username

    @property
    def has_security_question(self) -> bool:
        return bool(self.security_question and self.security_answer_hash)


class UserSession(AbstractBaseSession):
    """Django's database session, plus whose it is, so a person's sessions can be found (to sign
    them out everywhere, and to erase them) without decoding every session."""

    user_id = models.BigIntegerField(null=True, blank=True, db_index=True)

    class Meta(AbstractBaseSession.Meta):
        verbose_name = _("session")

    @classmethod
    def get_session_store_class(cls):
        from .sessions import SessionStore

        return SessionStore
