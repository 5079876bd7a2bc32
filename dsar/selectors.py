"""Reads other apps rely on. The consent gate asks these whether processing is blocked."""

from django.db.models import Q, QuerySet

from . import registry
from .models import DIRECT_MARKETING, AuditEvent, DataSubjectRequest, ProcessingBlock
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


def rectification_history(*, request: DataSubjectRequest) -> list[dict]:
    """Every proposal of a request, oldest first, in words (for the person's page and admin)."""
    labels = dict(registry.rectifiable_choices())
    return [
        {
            "proposal": proposal,
            "field": labels.get(proposal.target, proposal.target),
            "value": registry.rectification_value_display(proposal.target, proposal.proposed_value),
        }
        for proposal in request.rectifications.all()
    ]


def open_requests_of(*, kind: str, user, email: str) -> QuerySet:
    """The person's open requests of `kind`, oldest first: an account holder's by account, an
    email-only person's by address. Filing the same kind again joins the first of these."""
    from .models import OPEN_STATES

    same_person = Q(user=user) if user is not None else Q(user__isnull=True, email__iexact=email)
    return DataSubjectRequest.objects.filter(
        same_person, kind=kind, state__in=OPEN_STATES
    ).order_by("filed_at")
