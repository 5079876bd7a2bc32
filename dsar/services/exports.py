"""Access reports and portability packages: built by a worker, reviewed by an officer, released
to the person through an expiring link, deleted EXPORT_KEEP_DAYS after they are ready."""

import tempfile
from datetime import timedelta
from pathlib import Path

from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..app_settings import app_settings
from ..exports import access_report_write, portability_package_write
from ..mail import request_mail_send
from ..models import DataSubjectRequest, ExportFile, RequestKind, RequestState
from ..registry import SERVICE_DATA_CATEGORY
from .base import RequestError, audit_record, request_subject

EXPORT_KINDS = {
    RequestKind.ACCESS: [ExportFile.Kind.ACCESS],
    RequestKind.PORTABILITY: [ExportFile.Kind.PORTABILITY],
    RequestKind.SERVICE_DATA_EXPORT: [ExportFile.Kind.PORTABILITY],
}
STUCK_AFTER = timedelta(minutes=30)
LOST_AFTER = timedelta(minutes=10)
MAX_ATTEMPTS = 5


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


def exports_create(*, request: DataSubjectRequest) -> list[ExportFile]:
    """The export rows a request needs; a worker is woken for each after the commit."""
    if request.exports.exclude(state=ExportFile.State.DELETED).exists():
        return list(request.exports.all())  # asking twice changes nothing
    exports = [
        ExportFile.objects.create(request=request, kind=kind)
        for kind in EXPORT_KINDS.get(request.kind, [])
    ]
    for export in exports:
        _wake(export)
    return exports


def _wake(export: ExportFile) -> None:
    from ..tasks import export_build_task

    transaction.on_commit(lambda: export_build_task.delay(export.pk))


def _claim(export_id: int) -> ExportFile | None:
    with transaction.atomic():
        export = (
            ExportFile.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("request__user")
            .filter(pk=export_id, state__in=[ExportFile.State.PENDING, ExportFile.State.FAILED])
            .first()
        )
        if export is None or export.attempts >= MAX_ATTEMPTS:
            return None
        export.state = ExportFile.State.BUILDING
        export.started_at = timezone.now()
        export.attempts += 1
        export.save(update_fields=["state", "started_at", "attempts"])
        return export


def export_build(*, export_id: int) -> bool:
    """Build one export. The row is claimed first, so a repeated or duplicated message does
    nothing; a worker that dies leaves the row BUILDING, and the sweep hands it out again."""
    export = _claim(export_id)
    if export is None:
        return False
    subject = export_subject(export.request)
    try:
        with tempfile.TemporaryDirectory(prefix="workpex-export-") as folder:
            folder = Path(folder)
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
                    )
                files = {"file": folder / "report.html", "data_file": folder / "report.json"}
            else:
                with open(folder / "package.zip", "wb") as zip_file:
                    manifest = portability_package_write(
                        subject=subject,
                        zip_file=zip_file,
                        redactions=export.redactions,
                        categories=export_scope(export.request),
                    )
                counts = {f["name"]: f["records"] for f in manifest["files"]}
                files = {"file": folder / "package.zip"}
            _store(export, files)
    except Exception as error:  # recorded on the row; the sweep retries up to MAX_ATTEMPTS
        ExportFile.objects.filter(pk=export.pk).update(
            state=ExportFile.State.FAILED, error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise
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


def _store(export: ExportFile, files: dict[str, Path]) -> None:
    for field_name, path in files.items():
        field = getattr(export, field_name)
        if field:
            field.delete(save=False)  # a rebuild (after redaction) replaces the old file
        with open(path, "rb") as handle:
            field.save(path.name, File(handle), save=False)


@transaction.atomic
def export_redact(*, export: ExportFile, redactions: dict, reason: str, actor) -> ExportFile:
    """Remove other people's data from a package before release; the package is rebuilt."""
    export = ExportFile.objects.select_for_update().get(pk=export.pk)
    reason = reason.strip()
    if export.state != ExportFile.State.READY:
        raise RequestError(_("Only a package waiting for review can be redacted."))
    if not reason:
        raise RequestError(_("Say why you redact: the reason is kept."))
    merged = {label: dict(rows) for label, rows in export.redactions.items()}
    for label, rows in redactions.items():
        for row_id, fields in rows.items():
            merged.setdefault(label, {}).setdefault(str(row_id), [])
            merged[label][str(row_id)] = sorted(set(merged[label][str(row_id)]) | set(fields))
    export.redactions = merged
    export.redaction_reason = "\n".join(filter(None, [export.redaction_reason, reason]))
    export.state = ExportFile.State.PENDING
    export.attempts = 0
    export.save(update_fields=["redactions", "redaction_reason", "state", "attempts"])
    audit_record(
        action="export_redacted",
        actor=actor,
        subject=request_subject(export.request),
        obj=export,
        reason=reason,
    )
    _wake(export)
    return export


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
    unreleased = request.exports.exclude(
        state__in=[ExportFile.State.RELEASED, ExportFile.State.DELETED]
    )
    if request.state == RequestState.IN_PROGRESS and not unreleased.exists():
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


def export_download_record(*, export: ExportFile, actor, part: str) -> None:
    audit_record(
        action="export_downloaded",
        actor=actor,
        actor_kind=None if actor is not None else "subject",
        subject=request_subject(export.request),
        obj=export,
        detail={"part": part},
    )


def exports_sweep(*, now=None) -> dict[str, int]:
    """Delete expired files (keeping the row as a record), and hand out again exports whose
    worker died (stuck) or whose message was lost (pending too long)."""
    now = now or timezone.now()
    deleted = 0
    expired = ExportFile.objects.filter(
        state__in=[ExportFile.State.READY, ExportFile.State.RELEASED], expires_at__lt=now
    ).values_list("pk", flat=True)
    for pk in list(expired[:500]):
        with transaction.atomic():
            export = ExportFile.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if export is None or export.state == ExportFile.State.DELETED:
                continue
            for field in (export.file, export.data_file):
                if field:
                    field.delete(save=False)
            export.state = ExportFile.State.DELETED
            export.deleted_at = now
            export.save(update_fields=["state", "deleted_at", "file", "data_file"])
            deleted += 1
    stuck = ExportFile.objects.filter(
        state=ExportFile.State.BUILDING, started_at__lt=now - STUCK_AFTER
    ).update(state=ExportFile.State.FAILED, error="The worker stopped before it finished.")
    woken = 0
    for export in ExportFile.objects.filter(
        state__in=[ExportFile.State.PENDING, ExportFile.State.FAILED],
        created_at__lt=now - LOST_AFTER,
        attempts__lt=MAX_ATTEMPTS,
    )[:500]:
        from ..tasks import export_build_task

        export_build_task.delay(export.pk)
        woken += 1
    from .transfers import transfers_sweep

    transfers = transfers_sweep(now=now)
    return {"deleted": deleted, "stuck": stuck, "woken": woken, "transfers": transfers}
