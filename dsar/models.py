import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from .deadlines import DeadlineRule, deadline_rule_for

# Purpose code that stands for every direct-marketing purpose (the consent app decides which).
DIRECT_MARKETING = "direct_marketing"


ERASED = "[erased]"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        # The one exception: erasure may blank the free text a person could be named in.
        if kwargs == {"reason": ERASED}:
            return super().update(**kwargs)
        raise PermissionError(f"{self.model._meta.label} is append-only: rows are never updated.")

    def delete(self):
        raise PermissionError(f"{self.model._meta.label} is append-only: rows are never deleted.")


class AuditEvent(models.Model):
    """Who did what to whose data, when and why. Append-only: the subject is a pseudonymous
    reference and details never hold names or addresses; only the free-text reason (where staff
    may have named the person) is blanked when that person's data is erased."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        help_text=_("The staff member or user who acted; empty for the system."),
    )
    actor_kind = models.CharField(
        max_length=16,
        choices=[("staff", _("Staff")), ("subject", _("The person")), ("system", _("System"))],
    )
    action = models.CharField(max_length=64, db_index=True)
    subject_ref = models.CharField(max_length=64, db_index=True, blank=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    reason = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit event")
        indexes = [models.Index(fields=["subject_ref", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.subject_ref}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Audit events are append-only: rows are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only: rows are never deleted.")


class ProcessingBlock(models.Model):
    """A restriction of processing, or an objection, for a subject: for one purpose or for all.

    The consent gate and every processing job read these through `dsar.selectors`.
    """

    class Kind(models.TextChoices):
        RESTRICTION = "restriction", _("Restriction of processing")
        OBJECTION = "objection", _("Objection")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    email = models.EmailField(blank=True, db_index=True)
    purpose = models.CharField(
        max_length=64,
        blank=True,
        help_text=_("A use's code (dsar.purposes), 'direct_marketing', or empty for every use."),
    )
    reason = models.TextField(blank=True)
    request = models.ForeignKey(
        "dsar.DataSubjectRequest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="processing_blocks",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # A restriction is lifted only after the person was told (GDPR Art. 18(3)): first announced,
    # then lifted by the sweep once `lift_at` has come.
    lift_announced_at = models.DateTimeField(null=True, blank=True)
    lift_at = models.DateTimeField(null=True, blank=True, db_index=True)
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("processing restriction or objection")
        constraints = [
            models.CheckConstraint(
                condition=~Q(user__isnull=True, email=""), name="dsar_block_has_subject"
            ),
        ]
        indexes = [
            models.Index(
                fields=["purpose"], condition=Q(lifted_at__isnull=True), name="dsar_block_active"
            )
        ]

    def __str__(self) -> str:
        purpose = self.purpose or _("all purposes")
        return f"{self.get_kind_display()} ({purpose})"


class RequestKind(models.TextChoices):
    ACCESS = "access", _("See a copy of my data (access)")
    RECTIFICATION = "rectification", _("Correct my data (rectification)")
    ERASURE = "erasure", _("Delete my data (erasure)")
    RESTRICTION = "restriction", _("Limit how my data is used (restriction)")
    PORTABILITY = "portability", _("Take my data elsewhere (portability)")
    OBJECTION = "objection", _("Object to how my data is used (objection)")
    COMPLAINT = "complaint", _("Complain to a supervisory authority")
    SERVICE_DATA_EXPORT = "service_data_export", _("Export my service data")
    SERVICE_DATA_DELETION = "service_data_deletion", _("Delete my service data")


class RequestState(models.TextChoices):
    AWAITING_CONFIRMATION = "awaiting_confirmation", _("Waiting for you to confirm your email")
    RECEIVED = "received", _("Received")
    VERIFIED = "verified", _("Identity confirmed")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn by you")
    LAPSED = "lapsed", _("Lapsed (never confirmed)")


OPEN_STATES = (
    RequestState.AWAITING_CONFIRMATION,
    RequestState.RECEIVED,
    RequestState.VERIFIED,
    RequestState.IN_PROGRESS,
)
CLOSED_STATES = (
    RequestState.COMPLETED,
    RequestState.REJECTED,
    RequestState.WITHDRAWN,
    RequestState.LAPSED,
)


class RequestChannel(models.TextChoices):
    WEB = "web", _("Online form")
    EMAIL = "email", _("Email")
    LETTER = "letter", _("Letter")
    PHONE = "phone", _("Phone")
    IN_PERSON = "in_person", _("In person")


class DataSubjectRequest(models.Model):
    """One request by a person to exercise a right the policy grants."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("what you ask"), max_length=32, choices=RequestKind.choices)
    state = models.CharField(
        max_length=32, choices=RequestState.choices, default=RequestState.RECEIVED, db_index=True
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="privacy_requests",
    )
    email = models.EmailField(_("email address"), blank=True)
    details = models.TextField(_("details"), blank=True)
    purposes = models.JSONField(
        _("uses of your data"),
        default=list,
        blank=True,
        help_text=_(
            'For a restriction or an objection: the codes of the uses it names, or ["all"].'
        ),
    )
    country = CountryField(_("country"), blank=True)
    region = models.CharField(
        _("state or region"),
        max_length=3,
        blank=True,
        help_text=_("For the United States: the two-letter state code, like CA."),
    )
    channel = models.CharField(
        _("received by"), max_length=16, choices=RequestChannel.choices, default=RequestChannel.WEB
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("The person's language: their report is written in it."),
    )

    filed_at = models.DateTimeField(auto_now_add=True)
    received_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    original_due_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    extension_reason = models.TextField(blank=True)
    extended_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_privacy_requests",
        limit_choices_to={"is_staff": True},
    )
    reminder_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("data-subject request")
        ordering = ["due_at", "filed_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(extended_at__isnull=True) | ~Q(extension_reason=""),
                name="dsar_request_extension_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(state=RequestState.REJECTED) | ~Q(outcome=""),
                name="dsar_request_rejection_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["kind", "state"])]
        permissions = [("work_request", _("Can work on data-subject requests"))]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.reference}"

    @property
    def reference(self) -> str:
        return f"R-{str(self.public_id)[:8].upper()}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def deadline_rule(self) -> DeadlineRule:
        return deadline_rule_for(country=str(self.country or ""), region=self.region)


class RequestEvent(models.Model):
    """The timeline of a request: transitions, mails, notes, joins, extensions."""

    class Kind(models.TextChoices):
        FILED = "filed", _("Filed")
        TRANSITION = "transition", _("State changed")
        NOTE = "note", _("Internal note")
        JOINED = "joined", _("Filed again (joined)")
        EXTENSION = "extension", _("Deadline extended")
        ASSIGNMENT = "assignment", _("Assigned")
        MAIL = "mail", _("Mail sent")

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_state = models.CharField(max_length=32, blank=True)
    to_state = models.CharField(max_length=32, blank=True)
    text = models.TextField(blank=True)
    internal = models.BooleanField(default=False, help_text=_("Hidden from the person."))

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("request event")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"

    @property
    def to_state_label(self) -> str:
        return RequestState(self.to_state).label if self.to_state else ""


MAX_NOTIFY_ATTEMPTS = 10


class RecipientNotification(models.Model):
    """Telling one recipient of a person's data about a rectification, erasure or restriction
    (GDPR Art. 19). Sent through the recipient's adapter, or a task an officer does by hand."""

    class State(models.TextChoices):
        PENDING = "pending", _("To do")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed, to retry")
        DONE = "done", _("Done by hand")

    request = models.ForeignKey(
        DataSubjectRequest, on_delete=models.CASCADE, related_name="recipient_notifications"
    )
    recipient_key = models.CharField(max_length=100)
    recipient_name = models.CharField(max_length=200)
    recipient_contact = models.CharField(max_length=200, blank=True)
    adapter = models.CharField(
        max_length=200, blank=True, help_text=_("Empty: an officer contacts the recipient.")
    )
    # For a rectification: the applied correction this recipient is told about (one notice per
    # correction, and only to recipients that hold the corrected field).
    rectification = models.ForeignKey(
        "RectificationProposal",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="recipient_notifications",
    )
    # What the recipient needs to find the person; cleared once the recipient has been told.
    subject_email = models.EmailField(_("email address"), blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("recipient notification")
        constraints = [
            models.UniqueConstraint(
                fields=["request", "recipient_key"],
                condition=Q(rectification__isnull=True),
                name="dsar_one_notification_per_recipient",
            ),
            models.UniqueConstraint(
                fields=["rectification", "recipient_key"],
                condition=Q(rectification__isnull=False),
                name="dsar_one_notification_per_correction",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_name} ({self.get_state_display()})"

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.SENT, self.State.DONE)


class RectificationProposal(models.Model):
    """A correction a person asks for, of a field they cannot change themselves."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("Waiting for a decision")
        APPLIED = "applied", _("Applied")
        REJECTED = "rejected", _("Rejected")
        SUPERSEDED = "superseded", _("Replaced by a later value you gave")

    request = models.ForeignKey(
        DataSubjectRequest, on_delete=models.CASCADE, related_name="rectifications"
    )
    target = models.CharField(_("what to correct"), max_length=150)
    proposed_value = models.CharField(_("the correct value"), max_length=500)
    proposed_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    # A later value the person gave for the same field while this one was pending: this row
    # stays as it was (the history), the later one is what the officer decides.
    superseded_by = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="supersedes"
    )
    decision = models.CharField(max_length=16, choices=Decision.choices, default=Decision.PENDING)
    decision_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("proposed correction")
        ordering = ["proposed_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(decision="rejected") | ~Q(decision_reason=""),
                name="dsar_rectification_rejection_has_reason",
            ),
            # One value waits for a decision per field of a request; an earlier one is superseded.
            models.UniqueConstraint(
                fields=["request", "target"],
                condition=Q(decision="pending"),
                name="dsar_rectification_one_pending_per_field",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target} → {self.proposed_value}"


def export_upload_to(instance: "ExportFile", filename: str) -> str:
    return f"exports/{instance.public_id.hex}/{filename}"


class ExportFile(models.Model):
    """A package built for an access, portability or service-data request.

    Built by a worker, reviewed by an officer (who may redact other people's data), then released
    to the person through an expiring link. The files are deleted EXPORT_KEEP_DAYS after they are
    ready.
    """

    class Kind(models.TextChoices):
        ACCESS = "access", _("Access report (HTML and JSON)")
        PORTABILITY = "portability", _("Portable package (ZIP of JSON and CSV)")

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for a worker")
        BUILDING = "building", _("Being built")
        READY = "ready", _("Ready for review")
        RELEASED = "released", _("Released to the person")
        FAILED = "failed", _("Failed")
        DELETED = "deleted", _("Deleted")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(
        DataSubjectRequest, on_delete=models.CASCADE, related_name="exports"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    # For an access report: the HTML page; for a portability package: the ZIP.
    file = models.FileField(upload_to=export_upload_to, blank=True)
    # For an access report: the JSON document.
    data_file = models.FileField(upload_to=export_upload_to, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    redactions = models.JSONField(
        default=dict, blank=True, help_text=_("model label → {row id: [fields]} to redact")
    )
    redaction_reason = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # When the beat sweep sends the build (again): a lost message, or a retry after a failure.
    # Empty on a failed package past its attempts: it waits for an officer's Retry.
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        constraints = [
            models.CheckConstraint(
                condition=Q(redactions={}) | ~Q(redaction_reason=""),
                name="dsar_export_redaction_has_reason",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.request.reference}"


class ErasureSchedule(models.Model):
    """An approved erasure waiting out its grace period, then run by the beat sweep."""

    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled by the person")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    request = models.OneToOneField(
        DataSubjectRequest, on_delete=models.CASCADE, related_name="erasure"
    )
    due_at = models.DateTimeField(db_index=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.SCHEDULED)
    started_at = models.DateTimeField(null=True, blank=True)
    final_mail_sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    # Who is erased, fixed when the erasure starts and never read again from the rows the
    # erasure itself blanks (the request, the account): a worker that dies half-way is followed
    # by one that erases the same person. Cleared when the erasure is done.
    erase_user_id = models.BigIntegerField(_("account erased"), null=True, blank=True)
    erase_email = models.EmailField(_("address erased"), blank=True)
    erase_extra_email = models.EmailField(_("other address erased"), blank=True)
    # What the legal holds keep (dsar.erasure.erasure_holds), fixed just before the first
    # registry step: models, fields, reasons and dates, nothing about the person; told to them
    # in the final mail and on the request page.
    kept = models.JSONField(_("kept under a legal hold"), default=list, blank=True)

    class Meta:
        verbose_name = _("scheduled erasure")

    def __str__(self) -> str:
        return f"{self.request.reference} {self.get_state_display()} {self.due_at:%Y-%m-%d}"


class ThirdPartyTransfer(models.Model):
    """A portability package sent straight to a recipient the person named (GDPR Art. 20(2)):
    an email address, which gets a one-time download link, or one of their enabled
    integrations, which gets the package through its adapter.

    Only a hash of the link's token is kept. The link works once, until `expires_at` (7 days
    after it was sent, or earlier if the package is deleted before).
    """

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting for the package to be released")
        SENDING = "sending", _("Being delivered")
        SENT = "sent", _("Link sent")
        RECEIVED = "received", _("Received by the recipient")
        REVOKED = "revoked", _("Revoked by you")
        FAILED = "failed", _("Could not be delivered")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(
        DataSubjectRequest, on_delete=models.CASCADE, related_name="transfers"
    )
    export = models.ForeignKey(
        ExportFile, null=True, blank=True, on_delete=models.SET_NULL, related_name="transfers"
    )
    recipient_email = models.EmailField(_("recipient's email address"), blank=True)
    # An integration: its recipient key ("integration:<code>") and name, from dsar.recipients.
    recipient_key = models.CharField(max_length=100, blank=True)
    recipient_name = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.WAITING)
    token_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    receipt = models.CharField(
        max_length=200, blank=True, help_text=_("The integration's reference for the delivery.")
    )

    class Meta:
        verbose_name = _("transfer to a third party")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(recipient_key="") & ~Q(recipient_email=""))
                | (Q(recipient_email="") & ~Q(recipient_key="")),
                name="dsar_transfer_one_recipient",
            ),
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(state__in=["waiting", "sending", "sent"]),
                name="dsar_one_live_transfer_per_request",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_label} ({self.get_state_display()})"

    @property
    def recipient_label(self) -> str:
        return self.recipient_email or self.recipient_name or self.recipient_key

    @property
    def is_expired(self) -> bool:
        from django.utils import timezone

        return (
            self.state == self.State.SENT
            and self.expires_at is not None
            and self.expires_at <= timezone.now()
        )

    @property
    def can_revoke(self) -> bool:
        live = (self.State.WAITING, self.State.SENDING, self.State.SENT)
        return self.state in live and not self.is_expired

    @property
    def status_label(self) -> str:
        if self.is_expired:
            return str(_("Expired unused"))
        return self.get_state_display()


class LawfulBasis(models.TextChoices):
    """GDPR Art. 6(1): the six lawful bases, by their letter."""

    CONSENT = "a", _("Consent (GDPR Art. 6(1)(a))")
    CONTRACT = "b", _("A contract with the person (GDPR Art. 6(1)(b))")
    LEGAL_OBLIGATION = "c", _("A legal obligation (GDPR Art. 6(1)(c))")
    VITAL_INTERESTS = "d", _("Vital interests (GDPR Art. 6(1)(d))")
    PUBLIC_TASK = "e", _("A task in the public interest (GDPR Art. 6(1)(e))")
    LEGITIMATE_INTERESTS = "f", _("Legitimate interests (GDPR Art. 6(1)(f))")


# GDPR Art. 21(1): a person may object to processing based on (e) or (f).
OBJECTIONABLE_BASES = (LawfulBasis.PUBLIC_TASK, LawfulBasis.LEGITIMATE_INTERESTS)


class TransferSafeguard(models.TextChoices):
    """GDPR Art. 44–49: what makes a transfer outside the EEA lawful."""

    NONE = "", _("No transfer outside the EEA")
    ADEQUACY = "adequacy", _("Adequacy decision (GDPR Art. 45)")
    SCCS = "sccs", _("Standard contractual clauses (GDPR Art. 46(2)(c))")
    DPF = "dpf", _("EU-US Data Privacy Framework (adequacy decision, GDPR Art. 45)")


# The translated texts an activity may leave empty (dsar/translation.py requires the others).
ACTIVITY_OPTIONAL_TEXTS = ("legitimate_interest", "recipients", "transfers", "measures")


class ProcessingActivity(models.Model):
    """One processing activity: what the company does with data and why (docs/activities.md).

    The code is the stable key the code points at (registry entries, consent purposes, the uses
    a person may restrict or object to); everything else is words and policy, edited by officers
    in the admin, with history. The texts people read have a column per language
    (dsar/translation.py): `activity.name` reads the active language's."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), help_text=_("Plain language, for people."))
    lawful_basis = models.CharField(
        _("lawful basis"), max_length=1, choices=LawfulBasis.choices, blank=True
    )
    legitimate_interest = models.TextField(
        _("legitimate interest"),
        blank=True,
        help_text=_("For basis (f): the interest, in words, and why it is not overridden."),
    )
    data_categories = models.JSONField(
        _("data categories"),
        default=list,
        help_text=_("Fides taxonomy keys, e.g. user.contact.email."),
    )
    data_uses = models.JSONField(
        _("data uses"), default=list, help_text=_("Fides taxonomy keys, e.g. essential.service.")
    )
    data_subjects = models.JSONField(
        _("data subjects"), default=list, help_text=_("Fides taxonomy keys, e.g. customer.")
    )
    recipients = models.TextField(_("recipients"), blank=True, help_text=_("One per line."))
    transfers = models.TextField(
        _("transfers outside the EEA"),
        blank=True,
        help_text=_("Who receives the data, and in which country. Empty: no transfer."),
    )
    transfer_safeguard = models.CharField(
        _("transfer safeguard"), max_length=16, choices=TransferSafeguard.choices, blank=True
    )
    retention = models.TextField(_("retention"), help_text=_("How long, in words, for people."))
    measures = models.TextField(
        _("technical and organisational measures"), blank=True, help_text=_("One per line.")
    )
    as_processor = models.BooleanField(
        _("as processor"),
        default=False,
        help_text=_("We process this data for our customers (policy Part II, GDPR Art. 30(2))."),
    )
    test_mode = models.BooleanField(
        _("test mode only"),
        default=False,
        help_text=_("Happens only in test mode: left out of the records unless asked for."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=100)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("processing activity")
        verbose_name_plural = _("processing activities")
        constraints = [
            models.CheckConstraint(
                # On the English texts (dsar/translation.py), which every activity has.
                condition=~Q(lawful_basis="f")
                | (Q(legitimate_interest_en__isnull=False) & ~Q(legitimate_interest_en="")),
                name="dsar_activity_f_names_its_interest",
            ),
            models.CheckConstraint(
                condition=(
                    (Q(transfers_en__isnull=True) | Q(transfers_en="")) & Q(transfer_safeguard="")
                )
                | (Q(transfers_en__isnull=False) & ~Q(transfers_en="") & ~Q(transfer_safeguard="")),
                name="dsar_activity_transfer_has_safeguard",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        from .taxonomy import taxonomy_keys_invalid

        errors = {}
        for name, kind in (
            ("data_categories", "data_category"),
            ("data_uses", "data_use"),
            ("data_subjects", "data_subject"),
        ):
            bad = taxonomy_keys_invalid(kind, getattr(self, name))
            if bad:
                errors[name] = _("Not in the Fides taxonomy: %(keys)s") % {"keys": ", ".join(bad)}
        # The texts are checked in each language's column (dsar/translation.py): an optional
        # text given in one language is given in all, so no reader is left without it.
        languages = [code for code, _name in settings.LANGUAGES]
        for name in ACTIVITY_OPTIONAL_TEXTS:
            missing = [c for c in languages if not (getattr(self, f"{name}_{c}") or "").strip()]
            if (
                name == "legitimate_interest"
                and self.lawful_basis == LawfulBasis.LEGITIMATE_INTERESTS
            ):
                message = _("Basis (f) needs the legitimate interest in words.")
            elif len(missing) < len(languages):
                message = _("Give this text in every language.")
            else:
                continue
            errors.update({f"{name}_{code}": message for code in missing})
        transfers = (self.transfers_en or "").strip()
        if transfers and not self.transfer_safeguard:
            errors["transfer_safeguard"] = _("A transfer outside the EEA needs its safeguard.")
        if self.transfer_safeguard and not transfers:
            errors["transfers_en"] = _("Say who receives the data outside the EEA, and where.")
        if errors:
            raise ValidationError(errors)

    @property
    def objectionable(self) -> bool:
        return self.lawful_basis in OBJECTIONABLE_BASES

    @property
    def recipient_list(self) -> list[str]:
        return _lines(self.recipients)

    @property
    def measure_list(self) -> list[str]:
        return _lines(self.measures)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


# --- Webhooks out: the outbox, the subscribed endpoints and their deliveries (docs/webhooks.md) ---


class WebhookEventType(models.TextChoices):
    """The fixed list of events an endpoint may subscribe to (the `type` of each payload)."""

    CONSENT_CHANGED = "consent.changed", _("Consent given or withdrawn")
    REQUEST_FILED = "request.filed", _("Privacy request filed")
    REQUEST_STATE_CHANGED = "request.state_changed", _("Privacy request changed state")
    REQUEST_COMPLETED = "request.completed", _("Privacy request completed")
    ERASURE_DUE = "erasure.due", _("Erasure due: erase the person now")
    ERASURE_DONE = "erasure.done", _("Erasure done")
    ERASURE_PART_DUE = (
        "erasure.part_due",
        _("Erasure due in this connected system: erase, then confirm through the API"),
    )
    ACCESS_PART_DUE = (
        "access.part_due",
        _("Access due in this connected system: send the person's data through the API"),
    )
    RESTRICTION_APPLIED = "restriction.applied", _("Restriction or objection applied")
    RESTRICTION_LIFTED = "restriction.lifted", _("Restriction or objection lifted")
    POLICY_PUBLISHED = "policy.published", _("Privacy policy version published")


# Sent only to the endpoint of the connected system whose part of a request it is (the system
# names the endpoint), never by subscription.
TARGETED_EVENT_TYPES = (WebhookEventType.ERASURE_PART_DUE, WebhookEventType.ACCESS_PART_DUE)
SUBSCRIBABLE_EVENT_TYPES = [
    (code, label) for code, label in WebhookEventType.choices if code not in TARGETED_EVENT_TYPES
]

# A request is not done while a subscribed system has not acknowledged one of these (GDPR
# Art. 19 reaching the company's own systems).
ART19_EVENT_TYPES = (
    WebhookEventType.ERASURE_DUE,
    WebhookEventType.ERASURE_DONE,
    WebhookEventType.RESTRICTION_APPLIED,
)


class WebhookEndpoint(models.Model):
    """A system of the company that receives events, signed with its own secret."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    url = models.URLField(_("address"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list)
    active = models.BooleanField(_("active"), default=True)
    # The whsec_… secret, encrypted (dsar.webhooks.secret_encrypt); shown once, never again.
    secret_encrypted = models.TextField(editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    secret_rotated_at = models.DateTimeField(_("secret last changed"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["url", "pk"]

    def __str__(self) -> str:
        return self.description or self.url


class WebhookEvent(models.Model):
    """One event in the outbox, written in the transaction of the change it reports. Its id is
    the `webhook-id` of every delivery and replay, so receivers deduplicate by it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(_("event"), max_length=40, choices=WebhookEventType.choices)
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now)
    # Ids, codes and dates only; whom it is about is in the two fields below.
    data = models.JSONField(default=dict, blank=True)
    account_id = models.BigIntegerField(_("account"), null=True, blank=True)
    # Only where the receiving system needs it to find the person (docs/webhooks.md); cleared
    # once every subscribed system has acknowledged the event.
    subject_email = models.EmailField(_("email address"), blank=True)
    request = models.ForeignKey(
        DataSubjectRequest,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="webhook_events",
    )

    class Meta:
        verbose_name = _("webhook event")
        ordering = ["-occurred_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.type} {self.message_id}"

    @property
    def message_id(self) -> str:
        return f"evt_{self.public_id.hex}"


class WebhookDelivery(models.Model):
    """One event to one endpoint: a job row with a due time, retried with backoff."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        DELIVERED = "delivered", _("Acknowledged")
        FAILED = "failed", _("Failed: no more automatic tries")

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PENDING
    )
    due_at = models.DateTimeField(_("next try at"), default=timezone.now, db_index=True)
    # Tries since it was queued or last replayed (the backoff counts these).
    tries = models.PositiveIntegerField(_("tries"), default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    last_status_code = models.PositiveIntegerField(_("last answer"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "endpoint"], name="dsar_webhook_one_delivery_per_endpoint"
            )
        ]
        indexes = [models.Index(fields=["state", "due_at"])]

    def __str__(self) -> str:
        return f"{self.event.type} → {self.endpoint} ({self.get_state_display()})"


class WebhookAttempt(models.Model):
    """One try of a delivery: what the receiver answered, or why it could not be reached."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    at = models.DateTimeField(_("at"), auto_now_add=True)
    status_code = models.PositiveIntegerField(_("answer"), null=True, blank=True)
    error = models.TextField(_("what happened"), blank=True)
    detail = models.TextField(_("technical detail"), blank=True)
    duration_ms = models.PositiveIntegerField(_("took (ms)"), default=0)

    class Meta:
        verbose_name = _("webhook attempt")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.status_code or '—'}"
