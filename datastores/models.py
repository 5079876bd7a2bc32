import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ConnectedSystem(models.Model):
    """Another system that holds personal data: a SQL database the portal reaches by its
    SQLAlchemy URL (stored encrypted) and describes by a Fides dataset, or a system it cannot
    reach, whose part of a request is a task for an officer or a team, or is sent to the system
    itself (a webhook) and confirmed by it through the API."""

    class Kind(models.TextChoices):
        SQL = "sql", _("SQL database (reached by the portal)")
        MANUAL = "manual", _("Done by hand (a task for an officer or a team)")
        WEBHOOK = "webhook", _("Confirmed by the system through the API (told by a webhook)")

    # Kinds the portal cannot reach: their part of a request waits for someone to confirm it.
    OUT_OF_REACH = (Kind.MANUAL, Kind.WEBHOOK)

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.SQL)
    url_encrypted = models.TextField(blank=True, editable=False)
    url_masked = models.CharField(_("connection"), max_length=500, blank=True, editable=False)
    instructions = models.TextField(
        _("what to do"), blank=True, help_text=_("For a system done by hand: what the team does.")
    )
    team = models.CharField(_("who does it"), max_length=200, blank=True)
    due_days = models.PositiveIntegerField(
        _("days to do it"),
        default=7,
        help_text=_(
            "For a system done by hand or confirmed through the API: when its part is due."
        ),
    )
    endpoint = models.ForeignKey(
        "dsar.WebhookEndpoint",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("webhook endpoint"),
        help_text=_(
            "For a system confirmed through the API: where the portal tells it whom to erase. "
            "Then choose this system on the API client it confirms with."
        ),
    )
    active = models.BooleanField(_("active"), default=True)
    last_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_check = models.TextField(_("last connection test"), blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("connected system")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="sql") | ~Q(url_encrypted=""), name="datastores_sql_has_url"
            ),
            models.CheckConstraint(
                condition=~Q(kind="webhook") | Q(endpoint__isnull=False),
                name="datastores_webhook_has_endpoint",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def dataset(self) -> "DatasetVersion | None":
        return self.datasets.order_by("-version").first()


class DatasetVersion(models.Model):
    """One version of a system's Fides dataset; the newest is the one in force, the older ones
    are its history. Never changed once written."""

    system = models.ForeignKey(ConnectedSystem, on_delete=models.CASCADE, related_name="datasets")
    version = models.PositiveIntegerField()
    fides_key = models.CharField(max_length=200)
    text = models.TextField(_("dataset (Fides YAML)"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("dataset version")
        ordering = ["system", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["system", "version"], name="datastores_one_version"),
        ]

    def __str__(self) -> str:
        return f"{self.system} · {self.fides_key} v{self.version}"


def part_data_upload_to(instance: "SystemPart", filename: str) -> str:
    return f"system-parts/{uuid.uuid4().hex}/{filename}"


class SystemPart(models.Model):
    """One system's part of one request: a job row, claimed by a worker, retried with backoff,
    resumed after a worker died (collection by collection), or a task done by hand.

    An access part reads the person's rows (or takes what the system sends through the API)
    into `data_file`, which the request's access report and portable package are built from;
    the file is deleted with those packages."""

    class Kind(models.TextChoices):
        ERASURE = "erasure", _("Erasure")
        ACCESS = "access", _("Access")

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for a worker")
        RUNNING = "running", _("Running")
        FAILED = "failed", _("Failed, to retry")
        MANUAL = "manual", _("Waiting for someone to do it")
        WAITING = "waiting", _("Waiting for the system to confirm")
        DONE = "done", _("Done")

    # Parts done outside the portal: confirmed by an officer or by the system through the API.
    CONFIRMABLE = (State.MANUAL, State.WAITING)

    request = models.ForeignKey(
        "dsar.DataSubjectRequest", on_delete=models.CASCADE, related_name="system_parts"
    )
    system = models.ForeignKey(ConnectedSystem, on_delete=models.PROTECT, related_name="parts")
    dataset = models.ForeignKey(
        DatasetVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    # Whom it is about (identity type → value), kept until the part is done.
    identities = models.JSONField(default=dict, blank=True)
    # Keys of rows found by an identity the erasure overwrites, captured before any change.
    anchors = models.JSONField(null=True, blank=True)
    done_collections = models.JSONField(default=list, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # A part done by hand.
    instructions = models.TextField(_("what to do"), blank=True)
    team = models.CharField(_("who does it"), max_length=200, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_via = models.CharField(_("confirmed through the API by"), max_length=200, blank=True)
    confirmation = models.TextField(_("what was done"), blank=True)
    # An access part's data: a first line naming each collection and its fields' categories,
    # then one line per row ({"c": collection, "r": row}), JSON lines.
    data_file = models.FileField(upload_to=part_data_upload_to, blank=True, editable=False)

    class Meta:
        verbose_name = _("system part of a request")
        ordering = ["request", "system__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "system", "kind"], name="datastores_one_part_per_system"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.system} · {self.get_kind_display()} ({self.get_state_display()})"

    @property
    def overdue(self) -> bool:
        """A part waiting for a confirmation past its due time."""
        return (
            self.state in self.CONFIRMABLE
            and self.due_at is not None
            and self.due_at < timezone.now()
        )
