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
    # Where in the country (a US state's two-letter code, like CA): which state privacy law applies
    # (the CCPA disclosure counts California consumers by country US and region CA).
    region = models.CharField(
        _("state or region"),
        max_length=3,
        blank=True,
        help_text=_("For the United States: the two-letter state code, like CA."),
    )
    # Indexed for the daily under-16 sweep, which looks for the few births after a date.
    date_of_birth = models.DateField(_("date of birth"), null=True, db_index=True)

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


class PaymentMethod(models.Model):
    """A card a person added. Only what the policy allows is kept: the cardholder's name, the
    billing address, the expiry and the last four digits. The processor's token is kept only with
    the "stored payment method" consent, encrypted (accounts.payments), and deleted when that
    consent is withdrawn. The full number never reaches this table."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="payment_methods"
    )
    cardholder_name = models.CharField(_("cardholder name"), max_length=150)
    billing_line1 = models.CharField(_("address"), max_length=200)
    billing_line2 = models.CharField(_("address (line 2)"), max_length=200, blank=True)
    billing_city = models.CharField(_("city"), max_length=100)
    billing_postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    billing_country = CountryField(_("country"))
    expiry_month = models.PositiveSmallIntegerField(_("expiry month"))
    expiry_year = models.PositiveSmallIntegerField(_("expiry year"))
    last4 = models.CharField(_("last four digits"), max_length=4)
    brand = models.CharField(_("card brand"), max_length=20, blank=True)
    # MultiFernet ciphertext of the processor's token; empty without the consent.
    token_encrypted = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("payment method")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last4__regex=r"^[0-9]{4}$"),
                name="accounts_paymentmethod_last4_four_digits",
            ),
            models.CheckConstraint(
                condition=models.Q(expiry_month__gte=1, expiry_month__lte=12),
                name="accounts_paymentmethod_expiry_month_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand or _('Card')} •••• {self.last4}"

    @property
    def has_stored_token(self) -> bool:
        return bool(self.token_encrypted)


class Invoice(models.Model):
    """An invoice. Tax and commercial law make us keep it (legal hold) until `hold_until`:
    erasure keeps what the law requires (number, date, description, amounts, the name and
    address it was billed to) and blanks the rest, including the link to the account."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invoices",
    )
    number = models.CharField(_("invoice number"), max_length=32, unique=True)
    issued_at = models.DateTimeField(_("issued"), auto_now_add=True)
    description = models.CharField(_("description"), max_length=200)
    amount_cents = models.PositiveIntegerField(_("amount (cents)"))
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    billing_name = models.CharField(_("billed to"), max_length=150)
    billing_address = models.TextField(_("billing address"))
    card_last4 = models.CharField(_("card (last four digits)"), max_length=4, blank=True)
    # The end of the statutory retention (accounts.payments.invoice_hold_until): kept until
    # then, also after its holder's erasure; the retention sweep deletes it afterwards.
    hold_until = models.DateField(_("kept until"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("invoice")
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return self.number

    @property
    def amount(self) -> str:
        return f"{self.amount_cents // 100}.{self.amount_cents % 100:02d} {self.currency}"


class Testimonial(models.Model):
    """A person's testimonial. Published only as the person approved it: the public page shows the
    approved snapshot (text, name, details), never the working copy staff or the person edit."""

    class State(models.TextChoices):
        AWAITING_APPROVAL = "awaiting_approval", _("Waiting for your approval")
        APPROVED = "approved", _("Approved by you, waiting to be published")
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="testimonial"
    )
    state = models.CharField(max_length=20, choices=State.choices, db_index=True)
    # The working copy: what the person wrote, or what staff drafted from their feedback.
    feedback = models.TextField(_("your feedback it was drafted from"), blank=True)
    text = models.TextField(_("testimonial"), max_length=1500)
    display_name = models.CharField(_("name shown"), max_length=150)
    display_details = models.CharField(
        _("details shown"), max_length=200, blank=True, help_text=_("For example your role.")
    )
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # What the person approved, exactly; the only thing the public page shows.
    approved_text = models.TextField(blank=True, editable=False)
    approved_name = models.CharField(max_length=150, blank=True, editable=False)
    approved_details = models.CharField(max_length=200, blank=True, editable=False)
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("testimonial")
        ordering = ["-published_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(state__in=["approved", "published"])
                | (models.Q(approved_at__isnull=False) & ~models.Q(approved_text="")),
                name="accounts_testimonial_published_only_when_approved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name}: {self.text[:40]}"


class Workspace(models.Model):
    """Part II's service data lives in workspaces: the records a person keeps about their own
    customers or employees. The owner owns the service data; collaborators work in it."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="owned_workspaces"
    )
    name = models.CharField(_("workspace name"), max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("workspace")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class WorkspaceMember(models.Model):
    """A collaborator in a workspace (the owner is one too), or an invitation to become one:
    until the invitee accepts (`accepted_at`), nobody in the workspace sees their name or photo
    and they see nothing of the workspace but its name and who invited them. Collaborators see
    each other's name and photo only."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workspace_memberships"
    )
    added_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("workspace collaborator")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "user"], name="accounts_workspacemember_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.workspace_id}"


class WorkspaceRecord(models.Model):
    """One record about someone the owner works with (a customer or an employee)."""

    class Kind(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        EMPLOYEE = "employee", _("Employee")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="records")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=150)
    email = models.EmailField(_("email address"), blank=True)
    phone = models.CharField(_("phone number"), max_length=40, blank=True)
    notes = models.TextField(_("notes"), blank=True, max_length=5000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("workspace record")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class IntegrationGrant(models.Model):
    """A third-party integration the person enabled, with what it may read. Revoking it ends the
    access at once; the row stays (revoked) as the record of what was shared, until erasure."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="integration_grants"
    )
    integration = models.CharField(_("integration"), max_length=40)
    scopes = models.JSONField(_("what it may read"), default=list)
    workspace = models.ForeignKey(
        Workspace,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="integration_grants",
    )
    granted_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("integration grant")
        ordering = ["-granted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "integration"],
                condition=models.Q(revoked_at__isnull=True),
                name="accounts_integrationgrant_one_active_per_integration",
            )
        ]

    def __str__(self) -> str:
        return f"{self.integration} ({self.user_id})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class StaffAccessWindow(models.Model):
    """Support staff see a person's profile or service data only inside a window they opened
    with a reason tied to a support ticket. Every opening and every look is in the audit log."""

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_windows_opened"
    )
    subject_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_windows"
    )
    ticket_reference = models.CharField(_("support ticket"), max_length=40)
    reason = models.TextField(_("reason"), max_length=1000)
    starts_at = models.DateTimeField(_("starts"))
    expires_at = models.DateTimeField(_("expires"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("staff access window")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("starts_at")),
                name="accounts_staffaccesswindow_expires_after_start",
            )
        ]
        indexes = [models.Index(fields=["staff", "subject_user", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.ticket_reference} ({self.starts_at:%Y-%m-%d %H:%M})"


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
