"""Reads other apps rely on. The consent gate asks these whether processing is blocked."""

from django.db.models import Q, QuerySet

from .models import DIRECT_MARKETING, AuditEvent, ProcessingBlock
from .registry import Subject


def processing_blocks_active(*, purpose: str, direct_marketing: bool) -> QuerySet:
    """Active restrictions and objections that stop processing for `purpose`."""
    applies = Q(purpose="") | Q(purpose=purpose)
    if direct_marketing:
        applies |= Q(purpose=DIRECT_MARKETING)
    return ProcessingBlock.objects.filter(applies, lifted_at__isnull=True)


def blocked_user_ids(*, purpose: str, direct_marketing: bool) -> QuerySet:
    """A subquery of user ids whose processing for `purpose` is blocked (for bulk filters)."""
    return (
        processing_blocks_active(purpose=purpose, direct_marketing=direct_marketing)
        .filter(user__isnull=False)
        .values("user_id")
    )


def blocked_emails(*, purpose: str, direct_marketing: bool) -> QuerySet:
    """A subquery of lower-cased emails whose processing for `purpose` is blocked."""
    from django.db.models.functions import Lower

    return (
        processing_blocks_active(purpose=purpose, direct_marketing=direct_marketing)
        .exclude(email="")
        .annotate(email_lower=Lower("email"))
        .values("email_lower")
    )


def subject_processing_blocked(*, subject: Subject, purpose: str, direct_marketing: bool) -> bool:
    who = Q()
    if subject.user_id is not None:
        who |= Q(user_id=subject.user_id)
    if subject.email:
        who |= Q(email__iexact=subject.email)
    return (
        processing_blocks_active(purpose=purpose, direct_marketing=direct_marketing)
        .filter(who)
        .exists()
    )


def requests_of_user(*, user) -> QuerySet:
    from .models import DataSubjectRequest

    return DataSubjectRequest.objects.filter(user=user).order_by("-filed_at")


def request_for_viewer(*, public_id, user=None, token: str = ""):
    """The request if `user` filed it or `token` is its signed view link; else None."""
    from django.core import signing

    from .models import DataSubjectRequest

    request = DataSubjectRequest.objects.filter(public_id=public_id).first()
    if request is None:
        return None
    if user is not None and user.is_authenticated and request.user_id == user.pk:
        return request
    if token:
        try:
            signed_id = signing.loads(token, salt=VIEW_SALT, max_age=VIEW_LINK_MAX_AGE)
        except signing.BadSignature:
            return None
        if signed_id == str(request.public_id):
            return request
    return None


VIEW_SALT = "dsar.request.view"
VIEW_LINK_MAX_AGE = 60 * 60 * 24 * 180


EXPORT_PARTS = {
    "report.html": ("file", "text/html"),
    "report.json": ("data_file", "application/json"),
    "package.zip": ("file", "application/zip"),
}


def export_for_subject(*, public_id, part: str, user=None, token: str = ""):
    """A released, unexpired export of the viewer's own request, or None."""
    from django.utils import timezone

    from .models import ExportFile

    export = (
        ExportFile.objects.select_related("request")
        .filter(public_id=public_id, state=ExportFile.State.RELEASED, expires_at__gt=timezone.now())
        .first()
    )
    if export is None or part not in EXPORT_PARTS:
        return None
    if request_for_viewer(public_id=export.request.public_id, user=user, token=token) is None:
        return None
    return export if getattr(export, EXPORT_PARTS[part][0]) else None


def export_status(export) -> dict[str, str]:
    """A package's state for an officer, in plain words (`text`), with the technical cause of
    its last failure apart (`detail`, folded away on the page)."""
    from django.utils.formats import date_format
    from django.utils.timezone import localtime
    from django.utils.translation import gettext as _

    from .models import ExportFile
    from .services.exports import MAX_ATTEMPTS

    State = ExportFile.State
    detail = export.error if export.state in (State.FAILED, State.PENDING, State.BUILDING) else ""
    text = str(export.get_state_display())
    if export.state == State.FAILED and export.next_attempt_at and export.attempts < MAX_ATTEMPTS:
        text = _(
            "The build failed (attempt %(attempt)s of %(max)s). It is tried again "
            "automatically at %(when)s; you may also press Retry."
        ) % {
            "attempt": export.attempts,
            "max": MAX_ATTEMPTS,
            "when": date_format(localtime(export.next_attempt_at), "DATETIME_FORMAT"),
        }
    elif export.state == State.FAILED:
        text = _(
            "The build failed %(attempts)s times and is no longer tried automatically. Press "
            "Retry once the cause is fixed (the technical team can read the detail below)."
        ) % {"attempts": export.attempts}
    elif export.state in (State.PENDING, State.BUILDING) and export.error:
        text = _("%(state)s, again after a failed build (attempt %(attempt)s of %(max)s).") % {
            "state": text,
            "attempt": export.attempts + (1 if export.state == State.PENDING else 0),
            "max": MAX_ATTEMPTS,
        }
    return {"text": text, "detail": detail}


def request_export_delay(request) -> str:
    """What to tell the person when their package is late: empty when it is not."""
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from .models import ExportFile, RequestState
    from .services.exports import STUCK_AFTER

    if request.state != RequestState.IN_PROGRESS:
        return ""
    State = ExportFile.State
    waiting = request.exports.filter(state__in=[State.PENDING, State.BUILDING, State.FAILED])
    late = waiting.filter(
        Q(state=State.FAILED) | ~Q(error="") | Q(created_at__lt=timezone.now() - STUCK_AFTER)
    )
    if not late.exists():
        return ""
    return _(
        "Your report is taking longer than usual to prepare. We are retrying, and our team "
        "is keeping an eye on it; you will get an email as soon as it is ready."
    )


def staff_actions_on(*, subject: Subject, limit: int = 50):
    """ "Who looked at my data and why": staff actions on a person's data from the audit log,
    newest first, with the staff member and the stated reason."""
    return (
        AuditEvent.objects.filter(subject_ref=subject.ref, actor_kind="staff")
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )


def transfers_of_user(*, user) -> QuerySet:
    """The transfers to third parties of a person's own requests, newest first."""
    from .models import ThirdPartyTransfer

    return (
        ThirdPartyTransfer.objects.filter(request__user=user)
        .select_related("request")
        .order_by("-created_at", "-id")
    )


def transfer_destination_choices(*, user) -> list[tuple[str, str]]:
    """(key, name) of the integrations a signed-in person may send their package to."""
    from .recipients import portability_destinations

    if user is None or not user.is_authenticated:
        return []
    return [(d.key, d.name) for d in portability_destinations(Subject(user_id=user.pk))]
