"""Reads other apps rely on. The consent gate asks these whether processing is blocked."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q, QuerySet

from . import registry
from .models import (
    ART19_EVENT_TYPES,
    AuditEvent,
    DataSubjectRequest,
    ProcessingBlock,
    WebhookDelivery,
)
from .purposes import ALL_USES_BLOCK
from .registry import Subject
from .textinput import id_from_text


def processing_blocks_active(*, uses: Iterable[str]) -> QuerySet:
    """Active restrictions and objections that stop processing falling under any of `uses`
    (the codes of what is done: a purpose, 'direct_marketing', 'push_notifications', ...).

    A block stops exactly the use it names, or everything when it names every use.
    """
    applies = Q(purpose=ALL_USES_BLOCK) | Q(purpose__in=sorted(set(uses)))
    return ProcessingBlock.objects.filter(applies, lifted_at__isnull=True)


def blocked_user_ids(*, uses: Iterable[str]) -> QuerySet:
    """A subquery of user ids whose processing for `uses` is blocked (for bulk filters)."""
    return processing_blocks_active(uses=uses).filter(user__isnull=False).values("user_id")


def blocked_emails(*, uses: Iterable[str]) -> QuerySet:
    """A subquery of lower-cased emails whose processing for `uses` is blocked."""
    from django.db.models.functions import Lower

    return (
        processing_blocks_active(uses=uses)
        .exclude(email="")
        .annotate(email_lower=Lower("email"))
        .values("email_lower")
    )


def _who(subject: Subject) -> Q:
    who = Q(pk__in=[])
    if subject.user_id is not None:
        who |= Q(user_id=subject.user_id)
    if subject.email:
        who |= Q(email__iexact=subject.email)
    return who


def subject_processing_blocked(*, subject: Subject, uses: Iterable[str]) -> bool:
    """Whether a restriction or objection of the subject stops processing for any of `uses`."""
    return processing_blocks_active(uses=uses).filter(_who(subject)).exists()


def processing_allowed(*, subject: Subject, use: str) -> bool:
    """May we process the subject's data for `use` (a job with no consent behind it, such as
    behaviour analytics)? No when a restriction or objection names it or every use."""
    return not subject_processing_blocked(subject=subject, uses=[use])


def processing_blocks_in_force(*, subject: Subject) -> list[ProcessingBlock]:
    """The subject's restrictions and objections in force, oldest first, with their request."""
    return list(
        ProcessingBlock.objects.filter(_who(subject), lifted_at__isnull=True)
        .select_related("request")
        .order_by("created_at", "pk")
    )


def processing_blocks_shown(*, subject: Subject) -> list[dict]:
    """The subject's restrictions and objections in force, for the pages that show them: which
    use, since when, from which request, and whether lifting was announced."""
    from .purposes import processing_use_label

    return [
        {
            "kind": block.get_kind_display(),
            "is_objection": block.kind == ProcessingBlock.Kind.OBJECTION,
            "use": processing_use_label(block.purpose),
            "since": block.created_at,
            "request": block.request,
            "lift_at": block.lift_at,
        }
        for block in processing_blocks_in_force(subject=subject)
    ]


def blocked_use_codes(*, subject: Subject) -> dict[str, ProcessingBlock]:
    """The codes of the uses the subject's blocks in force name ('' for every use), each with
    its oldest block (for pages that show a use as paused)."""
    codes: dict[str, ProcessingBlock] = {}
    for block in processing_blocks_in_force(subject=subject):
        codes.setdefault(block.purpose, block)
    return codes


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


def export_status(export):
    """A package's state for an officer, in plain words, with the technical cause of its last
    failure apart, folded away on the page (a `dsar.jobstatus.JobStatus`)."""
    from django.utils.translation import gettext as _

    from .jobstatus import job_status, job_when
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
            "when": job_when(export.next_attempt_at),
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
    return job_status(text, detail=detail)


def erasure_status(schedule):
    """A scheduled erasure's state for an officer, in plain words (a `JobStatus`)."""
    from django.utils.translation import gettext as _

    from .jobstatus import job_running_status, job_status, job_when
    from .models import ErasureSchedule
    from .services.erasure import erasure_subjects, resume_after

    State = ErasureSchedule.State
    if schedule.state == State.SCHEDULED:
        return job_status(
            _("Scheduled for %(when)s; the person may cancel until then.")
            % {"when": job_when(schedule.due_at)}
        )
    if schedule.state == State.DONE:
        return job_status(_("Done at %(when)s.") % {"when": job_when(schedule.finished_at)})
    if schedule.state == State.RUNNING and not erasure_subjects(schedule):
        return job_status(
            _(
                "It stopped and cannot go on by itself: it does not record whom it erases. Ask "
                "the technical team; nothing more is erased until they have looked."
            )
        )
    if schedule.state == State.RUNNING:
        return job_running_status(started_at=schedule.started_at, resume_after=resume_after())
    return job_status(str(schedule.get_state_display()))


def recipient_notification_status(notification):
    """Telling one recipient (GDPR Art. 19), for an officer, in plain words (a `JobStatus`)."""
    from django.utils.translation import gettext as _

    from .jobstatus import job_status, job_tries, job_when
    from .models import MAX_NOTIFY_ATTEMPTS, RecipientNotification

    State = RecipientNotification.State
    if notification.state != State.FAILED:
        when = job_when(notification.done_at)
        return job_status(f"{notification.get_state_display()} {when}".strip())
    if notification.attempts < MAX_NOTIFY_ATTEMPTS:
        to_do = _(
            "It is tried again automatically within minutes (up to %(max)s tries); nothing to do "
            "for now."
        ) % {"max": MAX_NOTIFY_ATTEMPTS}
    else:
        to_do = _(
            "It is no longer tried automatically: tell the recipient another way, then mark it "
            "done."
        )
    return job_status(
        _("Telling this recipient failed: their system did not take the message."),
        job_tries(attempts=notification.attempts),
        to_do,
        detail=notification.last_error,
    )


def transfer_status(transfer):
    """A transfer to a third party (GDPR Art. 20(2)), for an officer, in plain words."""
    from django.utils.translation import gettext as _

    from .jobstatus import job_status, job_tries
    from .models import ThirdPartyTransfer

    State = ThirdPartyTransfer.State
    label = str(transfer.get_state_display())
    if not transfer.last_error:
        return job_status(label)
    if transfer.state == State.FAILED:
        return job_status(
            _("The package could not be delivered to the recipient, and it is no longer tried."),
            job_tries(attempts=transfer.attempts),
            _(
                "Tell the person; they can send it again from their request page once the "
                "recipient's system works (the technical team can read the detail below)."
            ),
            detail=transfer.last_error,
        )
    return job_status(
        _("%(state)s; the last delivery failed and is tried again automatically.")
        % {"state": label},
        job_tries(attempts=transfer.attempts),
        detail=transfer.last_error,
    )


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
    refs = {subject.ref}
    if subject.email:  # rows found by the address alone are logged under it
        refs.add(Subject(email=subject.email).ref)
    return (
        AuditEvent.objects.filter(subject_ref__in=sorted(refs), actor_kind="staff")
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )


# Views of one sitting: the same staff member doing the same thing for the same reason, each
# within this long of the one before, show as one line ("viewed 5 times between 10:02 and 10:20").
SITTING_GAP = timedelta(minutes=30)


@dataclass
class StaffLook:
    """One line of "Who looked at my data and why": one event, or a sitting of repeats."""

    first: AuditEvent
    last: AuditEvent
    count: int = 1

    @property
    def actor(self):
        return self.last.actor

    @property
    def action(self) -> str:
        return self.last.action

    @property
    def reason(self) -> str:
        return self.last.reason

    @property
    def object_type(self) -> str:
        return self.last.object_type


def staff_looks_on(*, subject: Subject, limit: int = 50, scan: int = 1000) -> list[StaffLook]:
    """Staff actions on a person's data, newest first, repeats of one sitting grouped."""
    looks: list[StaffLook] = []
    for event in staff_actions_on(subject=subject, limit=scan):
        current = looks[-1] if looks else None
        if (
            current is not None
            and current.first.actor_id == event.actor_id
            and current.first.action == event.action
            and current.first.reason == event.reason
            and current.first.object_type == event.object_type
            and current.first.at - event.at <= SITTING_GAP
        ):
            current.first = event
            current.count += 1
            continue
        if len(looks) == limit:
            break
        looks.append(StaffLook(first=event, last=event))
    return looks


def audit_ref_subject(subject_ref: str) -> Subject | None:
    """The subject an audit reference names, where it names an account (an address is kept only
    as a hash, so it names nobody the admin can show)."""
    kind, _, value = (subject_ref or "").partition(":")
    if kind == "user" and value.isdigit():
        return Subject(user_id=int(value))
    return None


def audit_staff_choices() -> list[tuple[int, str]]:
    """(id, username) of the staff members who appear as actors in the audit log."""
    from django.contrib.auth import get_user_model

    acted = AuditEvent.objects.filter(actor_kind="staff").values("actor_id").distinct()
    staff = get_user_model().objects.filter(pk__in=acted, is_staff=True)
    return list(staff.order_by("username").values_list("pk", "username"))


def audit_person_refs(text: str) -> list[str]:
    """The audit references of the person an officer typed: a user id, a username or an email
    address (an address also finds the rows of the person known only by it)."""
    from django.contrib.auth import get_user_model

    text = (text or "").strip()
    if not text or len(text) > 254:
        return []
    users = get_user_model().objects
    refs: list[str] = []
    if "@" in text:
        refs.append(Subject(email=text).ref)
        found = users.filter(email__iexact=text)
    elif id_from_text(text) is not None:
        found = users.filter(pk=id_from_text(text))
    else:
        found = users.filter(username=text)
    refs.extend(Subject(user_id=pk).ref for pk in found.values_list("pk", flat=True)[:10])
    return refs


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


def webhook_delivery_status(delivery):
    """A webhook delivery's state for an officer, in plain words (a `dsar.jobstatus.JobStatus`):
    what the receiving system answered, what is tried next, and what to do."""
    from django.utils.translation import gettext as _

    from .jobstatus import job_status, job_tries, job_when

    State = WebhookDelivery.State
    error = delivery.last_error
    if delivery.state == State.DELIVERED:
        return job_status(
            _("Acknowledged by the system at %(when)s.") % {"when": job_when(delivery.delivered_at)}
        )
    if not delivery.endpoint.active:
        return job_status(
            _("The endpoint is switched off: nothing is sent until it is switched on again.")
        )
    if delivery.state == State.SENDING:
        return job_status(_("Being sent now."))
    if delivery.state == State.FAILED:
        return job_status(
            error,
            _(
                "It was tried %(n)s time(s) and is not tried again automatically. Check that the "
                "system is up and its address right, then replay the delivery."
            )
            % {"n": delivery.tries},
        )
    if delivery.tries == 0:
        return job_status(_("Waiting to be sent."))
    return job_status(error, job_tries(attempts=delivery.tries, next_at=delivery.due_at))


def webhook_unacknowledged(deliveries: QuerySet) -> QuerySet:
    """The deliveries a subscribed (active) system has not acknowledged yet."""
    return deliveries.filter(endpoint__active=True).exclude(state=WebhookDelivery.State.DELIVERED)


def webhook_systems_waiting(request: DataSubjectRequest) -> int:
    """How many subscribed systems have not acknowledged an erasure or restriction event of the
    request (GDPR Art. 19): the request is not done until this is 0."""
    deliveries = WebhookDelivery.objects.filter(
        event__request=request, event__type__in=ART19_EVENT_TYPES
    )
    return webhook_unacknowledged(deliveries).values("endpoint").distinct().count()


def webhook_wait_words(request: DataSubjectRequest) -> str:
    """The wait for the connected systems, in plain words for the person and the officer ("" when
    none is awaited)."""
    from django.utils.translation import ngettext

    waiting = webhook_systems_waiting(request)
    if not waiting:
        return ""
    return ngettext(
        "Waiting for %(n)s connected system to confirm it has done the same (GDPR Art. 19).",
        "Waiting for %(n)s connected systems to confirm they have done the same (GDPR Art. 19).",
        waiting,
    ) % {"n": waiting}
