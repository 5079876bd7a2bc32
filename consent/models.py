"""Purposes, partners, policy versions, the consent ledger and form submissions.

The ledger (`ConsentEvent`) is append-only: each row is one grant or one withdrawal, and the
current state of a consent is derived from it (`consent.selectors`). Only erasure removes rows.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LegalBasis(models.TextChoices):
    CONSENT = "consent", _("Your consent")
    CONTRACT = "contract", _("Our contract with you")
    LEGAL_OBLIGATION = "legal_obligation", _("A legal obligation")
    LEGITIMATE_INTERESTS = "legitimate_interests", _("Our legitimate interests")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    DATA_USE = "data_use", _("Use of your data")
    COOKIE = "cookie", _("Cookies and widgets in your browser")


class Purpose(models.Model):
    """Something we do with a person's data or a kind of message we send them.

    Codes are stable (other code refers to them); names, descriptions and legal bases are edited
    by privacy officers in the admin.
    """

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), help_text=_("Plain language, for people."))
    legal_basis = models.CharField(_("legal basis"), max_length=32, choices=LegalBasis.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    is_essential = models.BooleanField(
        _("essential"),
        default=False,
        help_text=_("Essential purposes cannot be switched off: their mail always goes out."),
    )
    is_direct_marketing = models.BooleanField(
        _("direct marketing"),
        default=False,
        help_text=_("An objection to direct marketing stops this purpose."),
    )
    per_partner = models.BooleanField(
        _("per partner"),
        default=False,
        help_text=_("Consent is given partner by partner (reselling partners)."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=100)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("purpose")
        verbose_name_plural = _("purposes")
        constraints = [
            models.CheckConstraint(
                condition=Q(is_essential=False) | (Q(is_direct_marketing=False, per_partner=False)),
                name="consent_purpose_essential_is_not_marketing",
            ),
            models.CheckConstraint(
                condition=Q(is_essential=True) | Q(legal_basis="consent"),
                name="consent_purpose_optional_needs_consent",
            ),
            models.CheckConstraint(
                condition=Q(per_partner=False) | Q(channel="email"),
                name="consent_purpose_partner_is_email",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Partner(models.Model):
    """A reselling partner that may send product and service notifications."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    website = models.URLField(_("website"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("reselling partner")
        verbose_name_plural = _("reselling partners")

    def __str__(self) -> str:
        return self.name


class PolicyVersion(models.Model):
    """A version of the privacy policy. The publishing workflow comes with the policy pages."""

    version = models.CharField(_("version"), max_length=20, unique=True)
    text = models.TextField(_("text (Markdown)"))
    summary_of_changes = models.TextField(_("summary of changes"), blank=True)
    is_material = models.BooleanField(
        _("material change"),
        default=False,
        help_text=_("A change that affects people's rights: notified 30 days before it applies."),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    effective_at = models.DateTimeField(_("effective from"))

    class Meta:
        ordering = ["-effective_at"]
        verbose_name = _("privacy policy version")
        verbose_name_plural = _("privacy policy versions")
        constraints = [
            models.CheckConstraint(
                condition=Q(published_at__isnull=True)
                | Q(published_at__lte=models.F("effective_at")),
                name="consent_policy_published_before_effective",
            ),
        ]

    def __str__(self) -> str:
        return self.version


class ConsentEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The consent ledger is append-only: rows are never updated.")


class ConsentEvent(models.Model):
    """One grant or one withdrawal of consent, by one subject, for one purpose (and partner).

    The subject is an account holder (`user`) or a person known only by a verified email address
    (`email`, stored lower-cased). Rows are never updated (a database trigger refuses it too);
    erasure deletes them.
    """

    class Action(models.TextChoices):
        GRANTED = "granted", _("Granted")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Method(models.TextChoices):
        SIGNUP = "signup", _("Sign-up form")
        PREFERENCE_CENTRE = "preference_centre", _("Preference centre")
        UNSUBSCRIBE_LINK = "unsubscribe_link", _("Unsubscribe link")
        FORM_SUBMISSION = "form_submission", _("Form submission")
        ADMIN_REQUEST = "admin_request", _("Staff, on the person's written request")
        COOKIE_BANNER = "cookie_banner", _("Cookie banner")
        GLOBAL_PRIVACY_CONTROL = "gpc", _("Global Privacy Control signal from the browser")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="consent_events",
    )
    email = models.EmailField(_("email address"), blank=True)
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="events")
    partner = models.ForeignKey(
        Partner,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
        help_text=_("For a per-partner purpose: empty means every partner."),
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    method = models.CharField(_("how"), max_length=32, choices=Method.choices)
    policy_version = models.ForeignKey(
        PolicyVersion, on_delete=models.PROTECT, related_name="+", verbose_name=_("policy version")
    )
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    ip_hash = models.CharField(
        _("keyed hash of the IP address"), max_length=64, blank=True, editable=False
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("recorded by (staff)"),
    )
    reason = models.TextField(_("reason"), blank=True)

    objects = ConsentEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("consent ledger entry")
        verbose_name_plural = _("consent ledger")
        permissions = [
            ("record_on_request", _("Can record a consent change on a person's written request")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(user__isnull=True, email=""), name="consent_event_has_subject"
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=True) | Q(email=""),
                name="consent_event_one_kind_of_subject",
            ),
            models.CheckConstraint(
                condition=Q(action__in=["granted", "withdrawn"]), name="consent_event_action_valid"
            ),
            models.CheckConstraint(
                condition=Q(
                    method__in=[
                        "signup",
                        "preference_centre",
                        "unsubscribe_link",
                        "form_submission",
                        "admin_request",
                        "cookie_banner",
                        "gpc",
                    ]
                ),
                name="consent_event_method_valid",
            ),
            models.CheckConstraint(
                condition=~Q(method="admin_request")
                | (~Q(reason="") & Q(recorded_by__isnull=False)),
                name="consent_event_admin_request_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(email="") | Q(email=models.functions.Lower("email")),
                name="consent_event_email_lower_case",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "purpose", "-at"], name="consent_event_user_idx"),
            models.Index(
                fields=["email", "purpose", "-at"],
                condition=Q(user__isnull=True),
                name="consent_event_email_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.purpose} ({self.at:%Y-%m-%d %H:%M})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("The consent ledger is append-only: rows are never updated.")
        super().save(*args, **kwargs)


class FormSubmission(models.Model):
    """A form sent by anyone, with or without an account: what it was, why we keep it, how long."""

    class Kind(models.TextChoices):
        EVENT_REGISTRATION = "event_registration", _("Event or webinar registration")
        NEWSLETTER_SIGNUP = "newsletter_signup", _("Newsletter signup")
        MATERIAL_DOWNLOAD = "material_download", _("Whitepaper or material download")
        CONTEST_ENTRY = "contest_entry", _("Contest entry")
        SURVEY_RESPONSE = "survey_response", _("Survey response")
        SUPPORT_REQUEST = "support_request", _("Support request")
        QUOTE_REQUEST = "quote_request", _("Quote request")
        CONTACT_REQUEST = "contact_request", _("Contact request")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="form_submissions",
    )
    email = models.EmailField(_("email address"))
    name = models.CharField(_("name"), max_length=150)
    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    message = models.TextField(_("message"), blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    purpose = models.CharField(_("purpose of processing"), max_length=300)
    source = models.CharField(
        _("source"), max_length=200, blank=True, help_text=_("The page or campaign of the form.")
    )
    marketing_purpose = models.ForeignKey(
        Purpose,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("marketing consent asked for"),
        help_text=_("Set only when the person ticked the (never pre-ticked) marketing box."),
    )
    created_at = models.DateTimeField(_("sent at"), default=timezone.now, db_index=True)
    retain_until = models.DateTimeField(_("kept until"), db_index=True)
    confirmed_at = models.DateTimeField(
        _("email confirmed at"),
        null=True,
        blank=True,
        help_text=_("Double opt-in: when the person confirmed from the mail we sent."),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")
        constraints = [
            models.CheckConstraint(
                condition=Q(retain_until__gt=models.F("created_at")),
                name="consent_submission_retention_after_creation",
            ),
            models.CheckConstraint(
                condition=Q(email=models.functions.Lower("email")),
                name="consent_submission_email_lower_case",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.created_at:%Y-%m-%d})"


class PageViewCount(models.Model):
    """First-party analytics: page views per route per day. Aggregates only, nothing per person."""

    day = models.DateField(_("day"))
    route = models.CharField(_("page"), max_length=200)
    views = models.PositiveIntegerField(_("page views"), default=0)
    visits = models.PositiveIntegerField(
        _("visits"), default=0, help_text=_("The first page view of a browser on that day.")
    )

    class Meta:
        ordering = ["-day", "route"]
        verbose_name = _("page view count")
        verbose_name_plural = _("page view counts")
        constraints = [
            models.UniqueConstraint(fields=["day", "route"], name="consent_pageview_one_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.route}: {self.views}"
