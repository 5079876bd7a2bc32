"""Purposes, partners, policy versions, the consent ledger and form submissions.

The ledger (`ConsentEvent`) is append-only: each row is one grant or one withdrawal, and the
current state of a consent is derived from it (`consent.selectors`). Only erasure removes rows.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
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


class MessageChannel(models.TextChoices):
    """How a message reaches a person. A message purpose (channel "email" above) may be sent by
    each of these; its preferences have a switch per channel."""

    EMAIL = "email", _("Email")
    PUSH = "push", _("Push notification")


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

    @property
    def message_channels(self) -> tuple[str, ...]:
        """The channels a message of this purpose may take. Reselling partners mail only (they
        never get a device token); purposes that are not messages have none."""
        if self.channel != Channel.EMAIL:
            return ()
        if self.per_partner:
            return (MessageChannel.EMAIL,)
        return (MessageChannel.EMAIL, MessageChannel.PUSH)

    @property
    def has_channel_switches(self) -> bool:
        """Whether people switch this purpose channel by channel (see ConsentEvent.channel)."""
        return len(self.message_channels) > 1


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


# A material change is noticed at least this long before it applies (policy, Part III).
MATERIAL_NOTICE_PERIOD = timedelta(days=30)


class PolicyVersion(models.Model):
    """A version of the privacy policy: drafted, then published (and then never changed).

    A minor version is published at /policy/ without notice. A material version (a change that
    affects people's rights) sends a notice to every active account holder when it is published,
    and cannot take effect less than 30 days after the notices started: the service checks it, a
    check constraint enforces it, and a trigger makes published versions immutable.
    """

    version = models.CharField(_("version"), max_length=20, unique=True)
    text = models.TextField(
        _("text (Markdown)"),
        help_text=_("Markdown: headings, lists, links, emphasis. Raw HTML is not allowed."),
    )
    summary_of_changes = models.TextField(
        _("summary of changes"), blank=True, help_text=_("In plain words, for people.")
    )
    is_material = models.BooleanField(
        _("material change affecting rights"),
        default=False,
        help_text=_(
            "A change that affects people's rights: everyone is notified by email, and it "
            "cannot apply less than 30 days after the notices go out."
        ),
    )
    created_at = models.DateTimeField(_("drafted at"), default=timezone.now, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    notices_started_at = models.DateTimeField(
        _("notices started at"), null=True, blank=True, editable=False
    )
    effective_at = models.DateTimeField(_("effective from"))

    class Meta:
        ordering = ["-effective_at"]
        verbose_name = _("privacy policy version")
        verbose_name_plural = _("privacy policy versions")
        permissions = [("publish_policyversion", _("Can publish a privacy policy version"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(published_at__isnull=True)
                | Q(published_at__lte=models.F("effective_at")),
                name="consent_policy_published_before_effective",
            ),
            # Notices belong to published material versions only.
            models.CheckConstraint(
                condition=Q(notices_started_at__isnull=True)
                | Q(is_material=True, published_at__isnull=False),
                name="consent_policy_notices_only_for_material",
            ),
            # The 30-day rule, in the database: a published material version takes effect at
            # least 30 days after its notices started.
            models.CheckConstraint(
                condition=Q(is_material=False)
                | Q(published_at__isnull=True)
                | Q(
                    notices_started_at__isnull=False,
                    effective_at__gte=models.F("notices_started_at") + MATERIAL_NOTICE_PERIOD,
                ),
                name="consent_policy_material_30_days_notice",
            ),
        ]

    def __str__(self) -> str:
        return self.version

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class PolicyNotice(models.Model):
    """One notice of one material policy version to one account holder: the fan-out's row.

    pending -> sending (claimed by a worker, with a claim token) -> sent | failed; a transient
    failure goes back to pending with a later `next_attempt_at`, for NOTICE_RETRY_FOR after the
    first try; an officer may send a failed one back to pending. The unique constraint makes a
    second notice for the same person and version impossible.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped (account closed)")

    version = models.ForeignKey(
        PolicyVersion, on_delete=models.PROTECT, related_name="notices", verbose_name=_("version")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="policy_notices"
    )
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PENDING
    )
    # Attempts the mail server answered (accepted or refused the message); a try that never
    # reached it (connection refused or broken) is not one. `first_tried_at` starts the retry
    # window (NOTICE_RETRY_FOR) and the backoff, whichever way the tries went.
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    first_tried_at = models.DateTimeField(_("first tried at"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["version", "id"]
        verbose_name = _("policy-change notice")
        verbose_name_plural = _("policy-change notices")
        constraints = [
            models.UniqueConstraint(
                fields=["version", "user"], name="consent_notice_once_per_user_and_version"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "sending", "sent", "failed", "skipped"]),
                name="consent_notice_state_valid",
            ),
            models.CheckConstraint(
                condition=~Q(state="sent") | Q(sent_at__isnull=False),
                name="consent_notice_sent_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(state="sending") | Q(claim_token__isnull=False),
                name="consent_notice_sending_is_claimed",
            ),
        ]
        indexes = [
            models.Index(
                fields=["version", "state", "next_attempt_at", "id"],
                name="consent_notice_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} → user {self.user_id}: {self.state}"


class PolicyAcknowledgement(models.Model):
    """An account holder said they read a (material) policy version: from the banner, or by
    signing up while it was shown as upcoming."""

    class Method(models.TextChoices):
        BANNER = "banner", _("Banner on the portal")
        SIGNUP = "signup", _("Shown at sign-up")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="policy_acknowledgements"
    )
    version = models.ForeignKey(
        PolicyVersion, on_delete=models.PROTECT, related_name="acknowledgements"
    )
    method = models.CharField(_("how"), max_length=16, choices=Method.choices)
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("policy acknowledgement")
        verbose_name_plural = _("policy acknowledgements")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "version"], name="consent_acknowledgement_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} read by user {self.user_id}"


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
        API = "api", _("Another Workpex system, through the API")

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
    # Empty: the row decides the purpose as a whole, on every channel (every row written before
    # channels existed is such a row). "email" or "push": the row switches one channel of the
    # purpose on or off, and counts only while the purpose stands (consent.selectors).
    channel = models.CharField(
        _("channel"),
        max_length=8,
        blank=True,
        default="",
        db_default="",
        choices=MessageChannel.choices,
        help_text=_("Empty: the purpose as a whole, on every channel."),
    )
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
                condition=Q(channel__in=["", "email", "push"]), name="consent_event_channel_valid"
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
                        "api",
                    ]
                ),
                name="consent_event_method_valid",
            ),
            # The API names the client and where the person made the choice (api.endpoints).
            models.CheckConstraint(
                condition=~Q(method="api") | ~Q(reason=""),
                name="consent_event_api_has_source",
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
            # The latest row of a subject for a purpose is one probe of these (the gate).
            models.Index(fields=["user", "purpose", "-at", "-id"], name="consent_event_user_idx"),
            models.Index(
                fields=["email", "purpose", "-at", "-id"],
                condition=Q(user__isnull=True),
                name="consent_event_email_idx",
            ),
            # Channel rows are few: the gate asks this small index whether a person has any.
            models.Index(
                fields=["user", "purpose", "channel"],
                condition=~Q(channel=""),
                name="consent_event_channel_idx",
            ),
            # Erasure and exports find a subject's rows by `email__iexact` (UPPER on both sides).
            models.Index(Upper("email"), name="consent_event_email_up_idx"),
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
    from_child = models.BooleanField(
        _("sent by a child (under 16)"),
        default=False,
        help_text=_(
            "Set by an officer: the under-16 sweep then removes everything held about the sender."
        ),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")
        permissions = [("flag_child_formsubmission", _("Can flag a form as sent by a child"))]
        indexes = [
            models.Index(Upper("email"), name="consent_form_email_upper_idx"),
            # The under-16 sweep pages through the few flagged forms by id.
            models.Index(
                fields=["id"], condition=Q(from_child=True), name="consent_form_child_idx"
            ),
        ]
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


class CampaignUnsubscribeCount(models.Model):
    """How many people unsubscribed through the links of one mailing, per day. Counts only:
    who unsubscribed is in the ledger, not here."""

    campaign = models.CharField(_("campaign"), max_length=100)
    purpose = models.ForeignKey(Purpose, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    count = models.PositiveIntegerField(_("unsubscribes"), default=0)

    class Meta:
        verbose_name = _("unsubscribes per campaign")
        verbose_name_plural = _("unsubscribes per campaign")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "purpose", "day"], name="consent_campaign_unsubscribes_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign} {self.day}: {self.count}"


class PrivacySignalCount(models.Model):
    """Pages served per day, and how many of them to browsers sending Global Privacy Control.
    Counts only: no cookie, no address, nothing about any visitor."""

    day = models.DateField(_("day"), unique=True)
    pages = models.PositiveIntegerField(_("pages served"), default=0)
    gpc_pages = models.PositiveIntegerField(_("pages served to browsers sending GPC"), default=0)

    class Meta:
        verbose_name = _("privacy signal count")
        verbose_name_plural = _("privacy signal counts")

    def __str__(self) -> str:
        return f"{self.day}: {self.gpc_pages}/{self.pages}"
