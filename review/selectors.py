"""Reads of manual review: what the people of a workspace see, and whose rows an item is."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Q, QuerySet

from accounts.models import Workspace
from dsar.registry import Subject, values_in

from .models import ReviewItem, ScanReview, SpamReview

REVIEW_MODELS: tuple[type[ReviewItem], ...] = (SpamReview, ScanReview)


def workspace_review_items(*, workspace: Workspace) -> list[ReviewItem]:
    """A workspace's items, newest first, without the content fields a list does not need."""
    spam = SpamReview.objects.filter(workspace=workspace).only(
        "state", "decision", "created_at", "decided_at", "purge_after", "workspace_id"
    )
    scans = ScanReview.objects.filter(workspace=workspace).only(
        "state",
        "decision",
        "created_at",
        "decided_at",
        "purge_after",
        "checked_text",
        "workspace_id",
    )
    return sorted([*spam, *scans], key=lambda item: item.created_at, reverse=True)


def _of_subjects(user_ids: Sequence[int]) -> Q:
    return values_in("workspace__owner_id", user_ids) | values_in("reported_by_id", user_ids)


def review_rows_for(model: type[ReviewItem]):
    """The registry's row finders for `model`: items in the workspaces a person owns, and items
    they sent to review in someone else's workspace."""

    def one(subject: Subject) -> QuerySet:
        if subject.user_id is None:
            return model.objects.none()
        return model.objects.filter(_of_subjects([subject.user_id]))

    def many(subjects: Sequence[Subject]) -> QuerySet:
        user_ids = sorted({s.user_id for s in subjects if s.user_id is not None})
        if not user_ids:
            return model.objects.none()
        return model.objects.filter(_of_subjects(user_ids))

    return one, many
