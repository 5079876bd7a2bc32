"""Manual review by staff (Part II of the policy): messages reported as spam, and scanned images
whose optical character recognition a person checks.

An item belongs to a workspace, so it is the workspace owner's service data. A reviewer sees its
content only while it is assigned to them, with the purpose recorded at the assignment
(`review.services.review_item_open` is the one gate). The content goes as soon as the reviewer
decides; what stays is the outcome (and a scan's checked text, for the owner) until `purge_after`.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from accounts.models import Workspace


class ReviewState(models.TextChoices):
    WAITING = "waiting", _("Waiting for a reviewer")
    ASSIGNED = "assigned", _("Assigned to a reviewer")
    DECIDED = "decided", _("Checked")


class ReviewItem(models.Model):
    """What both kinds share: the queue, the assignment with its purpose, and the decision."""

    workspace = models.ForeignKey(
        Workspace,
        on_delete=models.CASCADE,
        related_name="%(class)s_items",
        verbose_name=_("workspace"),
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("sent by"),
    )
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=ReviewState.choices,
        default=ReviewState.WAITING,
        db_index=True,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    purpose = models.TextField(_("purpose of the review"), blank=True, max_length=1000)
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    decision = models.CharField(_("decision"), max_length=16, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("checked by"),
    )
    decided_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now, db_index=True)
    # Retention: the daily sweep deletes the row (and its file) after this moment.
    purge_after = models.DateTimeField(_("deleted after"), db_index=True)

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(assignee__isnull=True) | models.Q(state="assigned"),
                name="%(app_label)s_%(class)s_assignee_only_while_assigned",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="assigned")
                | (models.Q(assigned_at__isnull=False) & ~models.Q(purpose="")),
                name="%(app_label)s_%(class)s_assigned_with_purpose",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="decided")
                | (models.Q(decided_at__isnull=False) & ~models.Q(decision="")),
                name="%(app_label)s_%(class)s_decided_with_decision",
            ),
        ]

    def __str__(self) -> str:
        # Never the content: this string appears in the admin's lists and logs.
        return f"{self._meta.verbose_name} #{self.pk}"

    @property
    def kind_label(self) -> str:
        return capfirst(self._meta.verbose_name)

    @property
    def decision_label(self) -> str:
        return type(self).Decision(self.decision).label if self.decision else ""


def scan_upload_to(instance: "ScanReview", filename: str) -> str:
    # Never the uploaded name: it can carry personal data and guessable paths.
    return f"review-scans/{uuid.uuid4().hex}.jpg"


class SpamReview(ReviewItem):
    """A message a person reported as spam, for a reviewer to confirm or clear."""

    class Decision(models.TextChoices):
        SPAM = "spam", _("Spam")
        NOT_SPAM = "not_spam", _("Not spam")

    sender = models.CharField(_("sender"), max_length=254, blank=True)
    subject_line = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("message"), max_length=20000, blank=True)

    class Meta(ReviewItem.Meta):
        verbose_name = _("message reported as spam")
        verbose_name_plural = _("messages reported as spam")
        permissions = [
            ("review_spamreview", _("Can take and check messages reported as spam")),
        ]
        constraints = [
            *ReviewItem.Meta.constraints,
            models.CheckConstraint(
                condition=models.Q(decision__in=["", "spam", "not_spam"]),
                name="review_spamreview_decision_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="decided")
                | models.Q(sender="", subject_line="", body=""),
                name="review_spamreview_content_gone_when_decided",
            ),
        ]


class ScanReview(ReviewItem):
    """A scanned image and the text recognised in it, for a reviewer to check and correct."""

    class Decision(models.TextChoices):
        CONFIRMED = "confirmed", _("Recognised text confirmed")
        CORRECTED = "corrected", _("Recognised text corrected")

    image = models.ImageField(_("scanned image"), upload_to=scan_upload_to, blank=True)
    recognised_text = models.TextField(_("recognised text"), max_length=20000, blank=True)
    checked_text = models.TextField(_("checked text"), max_length=20000, blank=True)

    class Meta(ReviewItem.Meta):
        verbose_name = _("scan to check")
        verbose_name_plural = _("scans to check")
        permissions = [
            ("review_scanreview", _("Can take and check scanned images")),
        ]
        constraints = [
            *ReviewItem.Meta.constraints,
            models.CheckConstraint(
                condition=models.Q(decision__in=["", "confirmed", "corrected"]),
                name="review_scanreview_decision_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="decided") | models.Q(image="", recognised_text=""),
                name="review_scanreview_content_gone_when_decided",
            ),
        ]
