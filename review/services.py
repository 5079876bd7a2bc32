"""Every write and the one access rule of manual review.

Need to know: a reviewer sees an item's content only while it is assigned to them, and only with
the review permission for its kind. `review_item_open` is the one gate every view of content
goes through (the item page, the scanned image); it writes each look, and each refusal, to the
audit log against the workspace owner, so both appear on the owner's "Who looked at my data and
why". Decisions go through the same rule. Refusals are audited outside any inner transaction, so
a view that answers 403 (instead of raising) keeps the audit row under ATOMIC_REQUESTS.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User, Workspace
from accounts.services import photo_reencode, photo_validate
from accounts.workspaces import workspace_is_member
from dsar.registry import Subject
from dsar.services import audit_record

from .app_settings import app_settings
from .models import ReviewItem, ReviewState, ScanReview, SpamReview

MIN_PURPOSE_LENGTH = 15
# TextField's max_length is not checked by full_clean: the services check it.
MAX_TEXT_LENGTH = 20000
DEFAULT_PURPOSES = {
    SpamReview: gettext_lazy(
        "Check whether this reported message is spam, to improve our spam detection."
    ),
    ScanReview: gettext_lazy(
        "Check the recognised text against the scanned image, for accurate character recognition."
    ),
}
STAFF_ACTION_LABELS = {
    "staff_review_assigned": gettext_lazy(
        "Took an item you sent for manual review (a message reported as spam or a scan)"
    ),
    "staff_viewed_review_item": gettext_lazy("Looked at an item you sent for manual review"),
    "staff_review_decided": gettext_lazy("Checked an item you sent for manual review"),
    "staff_review_released": gettext_lazy("Gave back an item you sent for manual review"),
    "staff_review_refused": gettext_lazy(
        "Tried to look at an item you sent for manual review without it being assigned to them, "
        "and was refused"
    ),
}


class ReviewAccessRefused(PermissionDenied):
    """The item is not assigned to this reviewer. Already audited when raised."""


def review_permission(model: type[ReviewItem]) -> str:
    return f"{model._meta.app_label}.review_{model._meta.model_name}"


def review_item_subject(item: ReviewItem) -> Subject:
    """Whose data an item is: the workspace owner's (Part II's service data)."""
    return Subject(user_id=item.workspace.owner_id)


# --- Created by the people who work in a workspace ------------------------------------------------


def _check_member(*, workspace: Workspace, user: User) -> None:
    if not workspace_is_member(workspace=workspace, user=user):
        raise PermissionDenied(_("You do not work in this workspace."))


def _check_length(text: str) -> None:
    if len(text) > MAX_TEXT_LENGTH:
        raise ValidationError(
            _("The text is too long: at most %(n)d characters.") % {"n": MAX_TEXT_LENGTH}
        )


def _open_until():
    return timezone.now() + timedelta(days=app_settings.OPEN_DAYS)


@transaction.atomic
def spam_report_create(
    *, workspace: Workspace, reporter: User, sender: str, subject_line: str, body: str
) -> SpamReview:
    """A person in the workspace reports a message as spam; it waits for a reviewer."""
    _check_member(workspace=workspace, user=reporter)
    if not (body or "").strip():
        raise ValidationError(_("Paste the message you want to report."))
    _check_length(body)
    item = SpamReview(
        workspace=workspace,
        reported_by=reporter,
        sender=(sender or "").strip(),
        subject_line=(subject_line or "").strip(),
        body=body.strip(),
        purge_after=_open_until(),
    )
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def scan_submit(
    *, workspace: Workspace, uploader: User, upload: UploadedFile, recognised_text: str
) -> ScanReview:
    """A person in the workspace sends a scan whose recognised text a reviewer checks. The upload
    must be a real image within the photo limits; it is stored re-encoded as a JPEG without
    metadata, under a random name."""
    _check_member(workspace=workspace, user=uploader)
    _check_length(recognised_text or "")
    content = photo_reencode(photo_validate(upload), longest_side=app_settings.SCAN_STORED_PIXELS)
    item = ScanReview(
        workspace=workspace,
        reported_by=uploader,
        recognised_text=(recognised_text or "").strip(),
        purge_after=_open_until(),
    )
    item.full_clean(exclude=["image"])
    item.image.save("scan.jpg", ContentFile(content), save=False)
    try:
        item.save()
    except Exception:
        item.image.storage.delete(item.image.name)  # no row points at it
        raise
    return item


# --- The rule and the gate --------------------------------------------------------------------


def review_item_may_see(*, item: ReviewItem, staff: User) -> bool:
    """The rule: assigned to this reviewer now, and they hold the review permission for its kind."""
    return bool(
        staff.is_active
        and staff.is_staff
        and item.state == ReviewState.ASSIGNED
        and item.assignee_id == staff.pk
        and staff.has_perm(review_permission(type(item)))
    )


def _audit(item: ReviewItem, action: str, actor: User, *, reason: str = "", detail=None) -> None:
    """One audit event about `item`, on the page of the person whose item it is."""
    audit_record(
        action=action,
        actor=actor,
        subject=review_item_subject(item),
        reason=reason,
        obj=item,
        detail=detail,
    )


def _refuse(*, item: ReviewItem, staff: User, what: str) -> None:
    _audit(
        item,
        "staff_review_refused",
        staff,
        reason=_("Not assigned to this reviewer."),
        detail={"what": what, "state": item.state},
    )


def review_item_open(*, item: ReviewItem, staff: User, what: str) -> bool:
    """The one gate for seeing an item's content. Writes the look (with the purpose recorded at
    the assignment) or the refusal to the audit log, and says which it was."""
    if not review_item_may_see(item=item, staff=staff):
        _refuse(item=item, staff=staff, what=what)
        return False
    _audit(item, "staff_viewed_review_item", staff, reason=item.purpose, detail={"what": what})
    return True


# --- Assignment and decisions -----------------------------------------------------------------


def _locked(item: ReviewItem) -> ReviewItem:
    return type(item).objects.select_for_update().select_related("workspace").get(pk=item.pk)


@transaction.atomic
def review_item_assign(*, item: ReviewItem, reviewer: User, purpose: str) -> ReviewItem:
    """A reviewer takes a waiting item, saying why; the purpose is kept with the assignment and
    given as the reason of every look at it."""
    purpose = " ".join((purpose or "").split())
    if not (reviewer.is_staff and reviewer.has_perm(review_permission(type(item)))):
        raise ValidationError(_("You are not a reviewer of this kind of item."))
    if len(purpose) < MIN_PURPOSE_LENGTH:
        raise ValidationError(
            _("Say why you take this item (%(n)d characters or more).") % {"n": MIN_PURPOSE_LENGTH}
        )
    item = _locked(item)
    if item.state != ReviewState.WAITING:
        raise ValidationError(_("This item is already assigned or checked."))
    item.state = ReviewState.ASSIGNED
    item.assignee = reviewer
    item.assigned_at = timezone.now()
    item.purpose = purpose
    item.full_clean()
    item.save(update_fields=["state", "assignee", "assigned_at", "purpose"])
    _audit(item, "staff_review_assigned", reviewer, reason=purpose)
    return item


@transaction.atomic
def review_item_release(*, item: ReviewItem, actor: User) -> ReviewItem:
    """Give an assigned item back to the queue: the assignee, or staff who manage the queue. The
    former assignee no longer sees it."""
    item = _locked(item)
    manages = actor.has_perm(f"{item._meta.app_label}.change_{item._meta.model_name}")
    if item.state != ReviewState.ASSIGNED:
        raise ValidationError(_("This item is not assigned to anyone."))
    if item.assignee_id != actor.pk and not manages:
        raise ValidationError(_("Only the reviewer it is assigned to gives it back."))
    item.state = ReviewState.WAITING
    item.assignee = None
    item.assigned_at = None
    item.purpose = ""
    item.save(update_fields=["state", "assignee", "assigned_at", "purpose"])
    _audit(item, "staff_review_released", actor)
    return item


def _check_assigned(*, item: ReviewItem, reviewer: User) -> None:
    """Before anything else about a decision: the gate's rule, with the refusal audited."""
    if not review_item_may_see(item=item, staff=reviewer):
        _refuse(item=item, staff=reviewer, what="decision")
        raise ReviewAccessRefused(_("This item is not assigned to you."))


def _decide(*, item: ReviewItem, reviewer: User, decision: str, changes: dict) -> ReviewItem:
    with transaction.atomic():
        item = _locked(item)
        if not review_item_may_see(item=item, staff=reviewer):
            raise ValidationError(_("This item is no longer assigned to you."))
        old_file = item.image.name if isinstance(item, ScanReview) else ""
        now = timezone.now()
        for name, value in changes.items():
            setattr(item, name, value)
        item.state = ReviewState.DECIDED
        item.decision = decision
        item.decided_by = reviewer
        item.decided_at = now
        item.assignee = None
        # The content is gone from here on; the outcome stays for the owner for a while.
        item.purge_after = now + timedelta(days=app_settings.RESULT_DAYS)
        item.full_clean()
        item.save()
        if old_file:
            storage = item.image.storage
            transaction.on_commit(lambda: storage.delete(old_file))
        _audit(
            item,
            "staff_review_decided",
            reviewer,
            reason=item.purpose,
            detail={"decision": decision},
        )
    return item


def spam_review_decide(*, item: SpamReview, reviewer: User, decision: str) -> SpamReview:
    """Spam or not spam; the message itself is deleted with the decision."""
    _check_assigned(item=item, reviewer=reviewer)
    if decision not in SpamReview.Decision.values:
        raise ValidationError(_("Choose spam or not spam."))
    return _decide(
        item=item,
        reviewer=reviewer,
        decision=decision,
        changes={"sender": "", "subject_line": "", "body": ""},
    )


def scan_review_decide(*, item: ScanReview, reviewer: User, checked_text: str) -> ScanReview:
    """The checked text (confirmed as recognised, or corrected) is kept for the owner; the image
    and the recognised text are deleted with the decision."""
    _check_assigned(item=item, reviewer=reviewer)
    checked_text = (checked_text or "").strip()
    if not checked_text:
        raise ValidationError(_("Give the text the scan really shows."))
    _check_length(checked_text)
    same = checked_text == item.recognised_text.strip()
    decision = ScanReview.Decision.CONFIRMED if same else ScanReview.Decision.CORRECTED
    return _decide(
        item=item,
        reviewer=reviewer,
        decision=decision,
        changes={"checked_text": checked_text, "recognised_text": "", "image": ""},
    )
