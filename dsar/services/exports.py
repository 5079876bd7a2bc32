"""Access reports and portability packages: built by a worker, reviewed by an officer, released
to the person through an expiring link, deleted EXPORT_KEEP_DAYS after they are ready."""

import logging
import tempfile
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .. import registry
from ..app_settings import app_settings
from ..claims import claim_one, stuck_rows
from ..exports import access_report_write, portability_package_write
from ..mail import request_mail_send
from ..models import DataSubjectRequest, ExportFile, RequestKind, RequestState
from ..registry import SERVICE_DATA_CATEGORY
from ..request_parts import request_part_handlers
from ..wake import job_wake
from .base import RequestError, audit_record, request_subject

logger = logging.getLogger(__name__)

EXPORT_KINDS = {
    RequestKind.ACCESS: [ExportFile.Kind.ACCESS],
    RequestKind.PORTABILITY: [ExportFile.Kind.PORTABILITY],
    RequestKind.SERVICE_DATA_EXPORT: [ExportFile.Kind.PORTABILITY],
}
STUCK_AFTER = timedelta(minutes=30)
LOST_AFTER = timedelta(minutes=10)
# A failed build is retried by the beat sweep after RETRY_AFTER, doubling each time up to
# RETRY_AFTER_MAX, MAX_ATTEMPTS times in all; then it waits for an officer's Retry.
MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=5)
RETRY_AFTER_MAX = timedelta(hours=6)


def export_scope(request: DataSubjectRequest) -> list[str] | None:
    """The categories a request's export covers: service data only for a service-data export."""
    if request.kind == RequestKind.SERVICE_DATA_EXPORT:
        return [SERVICE_DATA_CATEGORY]
    return None


def export_subject(request: DataSubjectRequest):
    """Whose data goes into the package: the account and anything filed under its address."""
    from ..registry import Subject

    email = request.email or getattr(request.user, "email", "")
    return (
        Subject(user_id=request.user_id, email=email)
        if request.user_id
        else request_subject(request)
    )


def reaches_other_systems(request: DataSubjectRequest) -> bool:
    """Whether the request's packages hold what the connected systems have (dsar.request_parts):
    an access or portability request does; a service-data export covers the portal's service
    data only."""
    return request.kind in EXPORT_KINDS and export_scope(request) is None


def exports_create(*, request: DataSubjectRequest) -> list[ExportFile]:
    """The export rows a request needs; a worker is woken for each after the commit. An access
    or portability request first asks each connected system for its part (dsar.request_parts):
    the packages are built once those are done.

    Asking again changes nothing for a package that is waiting, being built or built; a failed
    one is queued again (as the officer's Retry does), and a deleted one is replaced."""
    if reaches_other_systems(request):
        for handler in request_part_handlers():
            handler.access_started(request=request, subjects=[export_subject(request)])
    current = list(request.exports.exclude(state=ExportFile.State.DELETED))
    if current:
        for export in current:
            if export.state == ExportFile.State.FAILED:
                _requeue(export)
        return current
    now = timezone.now()
    exports = [
        ExportFile.objects.create(request=request, kind=kind, next_attempt_at=now + LOST_AFTER)
        for kind in EXPORT_KINDS.get(request.kind, [])
    ]
    for export in exports:
        _wake(export)
    return exports


def _requeue(export: ExportFile) -> None:
    """Back to the queue with a fresh set of attempts; the last error stays shown until a
    build succeeds."""
    export.state = ExportFile.State.PENDING
    export.attempts = 0
    export.next_attempt_at = timezone.now() + LOST_AFTER
    export.save(update_fields=["state", "attempts", "next_attempt_at"])
    _wake(export)


@transaction.atomic
def export_retry(*, export: ExportFile, actor) -> ExportFile:
    """An officer's Retry: a failed package is queued again with a fresh set of attempts."""
    export = ExportFile.objects.select_for_update().get(pk=export.pk)
    if export.state != ExportFile.State.FAILED:
        raise RequestError(_("Only a package whose build failed can be retried."))
    _requeue(export)
    audit_record(
        action="export_retried",
        actor=actor,
        subject=request_subject(export.request),
        obj=export,
        detail={"error": export.error[:200]},
    )
    return export


def retry_delay(attempts: int) -> timedelta:
    """How long the sweep waits before the next attempt, after `attempts` failed ones."""
    return min(RETRY_AFTER * 2 ** max(attempts - 1, 0), RETRY_AFTER_MAX)


def _wake(export: ExportFile) -> None:
    job_wake(task="dsar.tasks.export_build_task", args=[export.pk])


def exports_resume(*, request: DataSubjectRequest) -> None:
    """What a request's packages waited for is done (a connected system's part): build them."""
    for export in request.exports.filter(state=ExportFile.State.PENDING):
        _wake(export)


def export_waits(request: DataSubjectRequest) -> list[str]:
    """What the request's packages wait for before they can be built, in plain words."""
    if not reaches_other_systems(request):
        return []
    return [
        reason for handler in request_part_handlers() for reason in handler.export_waits(request)
    ]


def _claim(export_id: int) -> ExportFile | None:
    with transaction.atomic():
        export = claim_one(
            ExportFile.objects.select_related("request__user").filter(
                pk=export_id, state__in=[ExportFile.State.PENDING, ExportFile.State.FAILED]
            )
        )
        if export is None or export.attempts >= MAX_ATTEMPTS:
            return None
        if export_waits(export.request):
            return None  # woken again when the connected systems' parts are done
        now = timezone.now()
        retry_at = export.next_attempt_at
        if export.state == ExportFile.State.FAILED and retry_at and retry_at > now:
            return None  # a stray message before the retry is due
        export.state = ExportFile.State.BUILDING
        export.started_at = now
        export.attempts += 1
        export.next_attempt_at = None
        export.save(update_fields=["state", "started_at", "attempts", "next_attempt_at"])
        return export


def export_sections(request: DataSubjectRequest, subject) -> list:
    """What the other systems hold (dsar.request_parts), for an access or portability request
    (a service-data export covers the portal's service data only)."""
    if not reaches_other_systems(request):
        return []
    return [
        section
        for handler in request_part_handlers()
        for section in handler.export_sections(request=request, subjects=[subject])
    ]


def export_build(*, export_id: int) -> bool:
    """Build one export. The row is claimed first, so a repeated or duplicated message does
    nothing; a worker that dies leaves the row BUILDING, and the sweep hands it out again."""
    export = _claim(export_id)
    if export is None:
        return False
    subject = export_subject(export.request)
    try:
        with (
            translation.override(export.request.language or settings.LANGUAGE_CODE),
            tempfile.TemporaryDirectory(prefix="workpex-export-") as folder,
        ):
            files, counts = _write(export, subject, Path(folder))
            _store(export, files)
    except Exception as error:  # recorded on the row; the sweep retries up to MAX_ATTEMPTS
        logger.exception("Export %s failed (attempt %s)", export.pk, export.attempts)
        _fail(export.pk, attempts=export.attempts, error=f"{type(error).__name__}: {error}")
        return False
    now = timezone.now()
    export.state = ExportFile.State.READY
    export.ready_at = now
    export.expires_at = now + timedelta(days=app_settings.EXPORT_KEEP_DAYS)
    export.counts = counts
    export.error = ""
    export.save(
        update_fields=["state", "ready_at", "expires_at", "counts", "error", "file", "data_file"]
    )
    audit_record(
        action="export_built",
        subject=request_subject(export.request),
        obj=export,
        detail={"kind": export.kind, "records": sum(counts.values())},
    )
    return True


def _write(export: ExportFile, subject, folder: Path) -> tuple[dict[str, Path], dict[str, int]]:
    """Write the export's files into `folder`, in the active language: (files, counts)."""
    sections = export_sections(export.request, subject)
    if export.kind == ExportFile.Kind.ACCESS:
        with (
            open(folder / "report.html", "w", encoding="utf-8") as html_file,
            open(folder / "report.json", "w", encoding="utf-8") as json_file,
        ):
            counts = access_report_write(
                subject=subject,
                json_file=json_file,
                html_file=html_file,
                redactions=export.redactions,
                categories=export_scope(export.request),
                sections=sections,
            )
        return {"file": folder / "report.html", "data_file": folder / "report.json"}, counts
    with open(folder / "package.zip", "wb") as zip_file:
        manifest = portability_package_write(
            subject=subject,
            zip_file=zip_file,
            redactions=export.redactions,
            categories=export_scope(export.request),
            sections=sections,
        )
    return {"file": folder / "package.zip"}, {f["name"]: f["records"] for f in manifest["files"]}


def _fail(pk: int, *, attempts: int, error: str) -> None:
    """Failed, with the time of the sweep's next attempt (none past the cap)."""
    retry_at = timezone.now() + retry_delay(attempts) if attempts < MAX_ATTEMPTS else None
    ExportFile.objects.filter(pk=pk).update(
        state=ExportFile.State.FAILED, error=error[:2000], next_attempt_at=retry_at
    )


def _store(export: ExportFile, files: dict[str, Path]) -> None:
    for field_name, path in files.items():
        field = getattr(export, field_name)
        if field:
            field.delete(save=False)  # a rebuild (after redaction) replaces the old file
        with open(path, "rb") as handle:
            field.save(path.name, File(handle), save=False)


@transaction.atomic
def export_redact(*, export: ExportFile, redactions: dict, reason: str, actor) -> ExportFile:
    """Remove other people's data from a package before release; the package is rebuilt.

    `redactions` maps model label -> {row id: field names}. Each must be something the package
    really exports (a model of its categories, a row of the person's, an exported field):
    anything else is refused, with the reason, before anything is saved."""
    export = ExportFile.objects.select_for_update().select_related("request").get(pk=export.pk)
    reason = reason.strip()
    if export.state != ExportFile.State.READY:
        raise RequestError(_("Only a package waiting for review can be redacted."))
    if not reason:
        raise RequestError(_("Say why you redact: the reason is kept."))
    if not redactions:
        raise RequestError(_("Choose the row and the fields to redact."))
    checked = export_redactions_check(export=export, redactions=redactions)
    merged = {label: dict(rows) for label, rows in export.redactions.items()}
    for label, rows in checked.items():
        for row_id, fields in rows.items():
            merged.setdefault(label, {}).setdefault(row_id, [])
            merged[label][row_id] = sorted(set(merged[label][row_id]) | set(fields))
    export.redactions = merged
    export.redaction_reason = "\n".join(filter(None, [export.redaction_reason, reason]))
    export.state = ExportFile.State.PENDING
    export.attempts = 0
    export.next_attempt_at = timezone.now() + LOST_AFTER
    export.save(
        update_fields=["redactions", "redaction_reason", "state", "attempts", "next_attempt_at"]
    )
    audit_record(
        action="export_redacted",
        actor=actor,
        subject=request_subject(export.request),
        obj=export,
        reason=reason,
    )
    _wake(export)
    return export


def export_redaction_choices(*, export: ExportFile) -> list[dict]:
    """What an officer may redact in a package: each model it exports rows of (with an id),
    its exported fields, and the ids of its rows (the first 200; any other row of the person's
    may be typed)."""
    subject = export_subject(export.request)
    entries = _scope_entries(export)
    choices = []
    for entry in registry.entries_holding(entries, [subject]):
        if not entry.export_row_id:
            continue
        rows = entry.rows_for(subject).order_by("pk").values_list("pk", flat=True)[:200]
        choices.append(
            {
                "label": entry.label,
                "name": str(entry.model._meta.verbose_name_plural),
                "fields": list(entry.export_fields),
                "rows": [str(pk) for pk in rows],
            }
        )
    return sorted(choices, key=lambda c: c["label"])


def _scope_entries(export: ExportFile) -> list:
    scope = export_scope(export.request)
    return [e for e in registry.entries() if scope is None or e.category in scope]


def export_redactions_check(*, export: ExportFile, redactions: dict) -> dict[str, dict]:
    """`redactions` with row ids as text, or a RequestError saying what is not in the package."""
    subject = export_subject(export.request)
    by_label = {e.label: e for e in _scope_entries(export)}
    checked: dict[str, dict] = {}
    for label, rows in redactions.items():
        entry = by_label.get(label)
        if entry is None:
            raise RequestError(
                _("This package holds no data of the kind “%(model)s”.") % {"model": label}
            )
        if not entry.export_row_id:
            raise RequestError(
                _("Rows of “%(model)s” have no id in the package, so they cannot be redacted.")
                % {"model": label}
            )
        pk_field = entry.model._meta.pk
        for row_id, fields in rows.items():
            fields = [fields] if isinstance(fields, str) else list(fields)
            unknown = sorted(set(fields) - set(entry.export_fields))
            if not fields or unknown:
                raise RequestError(
                    _("Choose fields that the package exports for “%(model)s”: %(fields)s.")
                    % {"model": label, "fields": ", ".join(entry.export_fields)}
                )
            try:
                pk = pk_field.to_python(str(row_id).strip())
                in_package = pk is not None and entry.rows_for(subject).filter(pk=pk).exists()
            except (ValidationError, ValueError, TypeError):
                in_package = False
            if not in_package:
                raise RequestError(
                    _("Row %(row)s of “%(model)s” is not in this package.")
                    % {"row": row_id, "model": label}
                )
            checked.setdefault(label, {})[str(pk)] = sorted(set(fields))
    return checked


@transaction.atomic
def export_release(*, export: ExportFile, actor) -> ExportFile:
    """The officer has reviewed the package: the person may download it until it expires."""
    from .requests import dsar_request_transition

    export = ExportFile.objects.select_for_update().select_related("request").get(pk=export.pk)
    if export.state != ExportFile.State.READY:
        raise RequestError(_("Only a built package waiting for review can be released."))
    export.state = ExportFile.State.RELEASED
    export.released_at = timezone.now()
    export.save(update_fields=["state", "released_at"])
    request = export.request
    audit_record(
        action="export_released", actor=actor, subject=request_subject(request), obj=export
    )
    from .transfers import transfers_send_released

    transfers_send_released(export=export, actor=actor)
    if request.state == RequestState.IN_PROGRESS and not export_completion_blockers(request):
        dsar_request_transition(
            request=request,
            to_state=RequestState.COMPLETED,
            actor=actor,
            reason=_("Your data is ready. Download it from your request's page until %(date)s.")
            % {"date": export.expires_at.date().isoformat()},
        )
    else:
        request_mail_send(request=request, template="export_ready", context={"export": export})
    return export


def export_completion_blockers(request: DataSubjectRequest) -> list[str]:
    """What the request's packages still need before it may be completed: a package of each
    kind it asks for released to the person once. What happened to a package since (deleted
    after it expired) or to another one (a failed or deleted rebuild) does not matter."""
    kinds = EXPORT_KINDS.get(request.kind)
    if not kinds:
        return []
    released = set(request.exports.filter(released_at__isnull=False).values_list("kind", flat=True))
    if released.issuperset(kinds):
        return []
    if request.exports.filter(state=ExportFile.State.FAILED).exists():
        return [
            _(
                "The package could not be built: press Retry, or reject the request and tell "
                "the person why."
            )
        ]
    return [_("Build, review and release the package first.")]


def export_download_record(*, export: ExportFile, actor, part: str) -> None:
    audit_record(
        action="export_downloaded",
        actor=actor,
        actor_kind=None if actor is not None else "subject",
        subject=request_subject(export.request),
        obj=export,
        detail={"part": part},
    )


def export_file_missing(*, export: ExportFile, part: str) -> None:
    """A finished export whose file storage no longer has: logged for operations (an error) and
    kept in the audit log, so officers see it with the request. The person is told in the view."""
    logger.error(
        "Export %s of request %s: the file for %r is missing from storage.",
        export.pk,
        export.request.reference,
        part,
    )
    audit_record(
        action="export_file_missing",
        subject=request_subject(export.request),
        obj=export,
        detail={"part": part},
    )


def exports_sweep(*, now=None) -> dict[str, int]:
    """Delete expired files (keeping the row as a record), and hand out again exports whose
    worker died (stuck), whose message was lost (pending too long) or whose retry after a
    failed build is due (`retry_delay`, up to MAX_ATTEMPTS)."""
    now = now or timezone.now()
    deleted = 0
    expired = ExportFile.objects.filter(
        state__in=[ExportFile.State.READY, ExportFile.State.RELEASED], expires_at__lt=now
    ).values_list("pk", flat=True)
    for pk in list(expired[:500]):
        with transaction.atomic():
            export = claim_one(
                ExportFile.objects.filter(pk=pk).exclude(state=ExportFile.State.DELETED)
            )
            if export is None:
                continue
            for field in (export.file, export.data_file):
                if field:
                    field.delete(save=False)
            export.state = ExportFile.State.DELETED
            export.deleted_at = now
            export.save(update_fields=["state", "deleted_at", "file", "data_file"])
            deleted += 1
            request = export.request
            if not request.exports.exclude(state=ExportFile.State.DELETED).exists():
                for handler in request_part_handlers():
                    handler.exports_deleted(request=request)
    # The worker died: retried at once (the attempt counts), unless past the cap.
    building = ExportFile.objects.filter(
        stuck_rows(state=ExportFile.State.BUILDING, since="started_at", after=STUCK_AFTER, now=now)
    )
    stopped = {"state": ExportFile.State.FAILED, "error": "The worker stopped before it finished."}
    stuck = building.filter(attempts__lt=MAX_ATTEMPTS).update(**stopped, next_attempt_at=now)
    stuck += building.update(**stopped, next_attempt_at=None)
    woken = 0
    due = ExportFile.objects.filter(
        Q(next_attempt_at__lte=now)
        | Q(next_attempt_at__isnull=True, created_at__lt=now - LOST_AFTER),
        state__in=[ExportFile.State.PENDING, ExportFile.State.FAILED],
        attempts__lt=MAX_ATTEMPTS,  # a failed package past the cap waits for an officer
    )
    for pk in list(due.values_list("pk", flat=True)[:500]):
        job_wake(task="dsar.tasks.export_build_task", args=[pk], after_commit=False)
        woken += 1
    # A message lost again is sent again one LOST_AFTER later (a repeat is a no-op: the claim).
    ExportFile.objects.filter(
        pk__in=due.filter(state=ExportFile.State.PENDING).values("pk")
    ).update(next_attempt_at=now + LOST_AFTER)
    from .transfers import transfers_sweep

    transfers = transfers_sweep(now=now)
    return {"deleted": deleted, "stuck": stuck, "woken": woken, "transfers": transfers}
