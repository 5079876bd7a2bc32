from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# Purpose code that stands for every direct-marketing purpose (the consent app decides which).
DIRECT_MARKETING = "direct_marketing"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError(f"{self.model._meta.label} is append-only: rows are never updated.")

    def delete(self):
        raise PermissionError(f"{self.model._meta.label} is append-only: rows are never deleted.")


class AuditEvent(models.Model):
    """Who did what to whose data, when and why. Append-only, and free of personal data itself:
    the subject is a pseudonymous reference and details never hold names or addresses."""

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
        help_text=_("A purpose code, 'direct_marketing', or empty for every purpose."),
    )
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
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
        return f"{self.get_kind_display()} ({self.purpose or _('all purposes')})"
