import uuid
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils import timezone
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


class ChildDataReport(models.Model):
    """A removal of a child's data (under 16): reported by anyone through the public form and
    reviewed by an officer, or found by the sweep (a date of birth under 16, a form flagged as
    sent by a child). Once confirmed the row is the job: a worker claims it, erases everything
    held about the person through the registry, tells the reporter, and closes it.

    `erase_user_id` / `erase_email` / `erase_extra_email` are who is erased, fixed when the
    removal is confirmed (plain values, so they survive the account's deletion and a resumed run
    erases the same person). They and the child's details are cleared when the row is closed;
    what stays is the reporter's address, the outcome and the counts, until retention ends.
    """

    class Source(models.TextChoices):
        REPORT = "report", _("Report from the public form")
        DATE_OF_BIRTH = "date_of_birth", _("Date of birth under 16")
        FLAGGED_FORM = "flagged_form", _("Form flagged as sent by a child")

    class State(models.TextChoices):
        RECEIVED = "received", _("Waiting for review")
        CONFIRMED = "confirmed", _("Confirmed: removal due")
        REMOVING = "removing", _("Removal running")
        REMOVED = "removed", _("Removed")
        REJECTED = "rejected", _("Rejected")

    class Relationship(models.TextChoices):
        PARENT = "parent", _("Parent or guardian")
        TEACHER = "teacher", _("Teacher or carer")
        SELF = "self", _("I am the child")
        OTHER = "other", _("Someone else")

    source = models.CharField(
        _("source"), max_length=16, choices=Source.choices, default=Source.REPORT
    )
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.RECEIVED, db_index=True
    )
    reporter_name = models.CharField(_("reporter's name"), max_length=150, blank=True)
    reporter_email = models.EmailField(_("reporter's email address"), blank=True)
    relationship = models.CharField(
        _("reporter's relationship to the child"),
        max_length=16,
        choices=Relationship.choices,
        blank=True,
    )
    child_name = models.CharField(_("child's name"), max_length=150, blank=True)
    child_email = models.EmailField(_("child's email address"), blank=True)
    child_username = models.CharField(_("child's username"), max_length=150, blank=True)
    details = models.TextField(_("details"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("account found"),
        help_text=_(
            "The account the report is about, if there is one. Check it before confirming."
        ),
    )
    created_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    erase_user_id = models.BigIntegerField(_("account erased"), null=True, blank=True)
    erase_email = models.EmailField(_("address erased"), blank=True)
    erase_extra_email = models.EmailField(_("other address erased"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    started_at = models.DateTimeField(_("removal started at"), null=True, blank=True)
    reporter_told_at = models.DateTimeField(_("reporter told at"), null=True, blank=True)
    counts = models.JSONField(_("rows removed per model"), default=dict, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("child data report")
        verbose_name_plural = _("child data reports")
        permissions = [("review_childdatareport", _("Can confirm or reject a child data report"))]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(source="report") | ~models.Q(reporter_email=""),
                name="accounts_child_report_has_reporter",
            ),
            models.CheckConstraint(
                condition=~models.Q(state__in=["confirmed", "removing"])
                | models.Q(erase_user_id__isnull=False)
                | ~models.Q(erase_email=""),
                name="accounts_child_removal_knows_whom",
            ),
            models.CheckConstraint(
                condition=models.Q(closed_at__isnull=True)
                | models.Q(state__in=["removed", "rejected"]),
                name="accounts_child_closed_when_done",
            ),
            models.UniqueConstraint(
                fields=["erase_user_id"],
                condition=models.Q(
                    state__in=["confirmed", "removing"], erase_user_id__isnull=False
                ),
                name="accounts_child_one_removal_per_account",
            ),
            models.UniqueConstraint(
                fields=["erase_email"],
                condition=models.Q(state__in=["confirmed", "removing"]) & ~models.Q(erase_email=""),
                name="accounts_child_one_removal_per_address",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} #{self.pk} ({self.get_state_display()})"
