"""What happens next with a request, and when, in the person's words: shown on its page."""

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from .app_settings import app_settings
from .models import DataSubjectRequest, ErasureSchedule, ExportFile, RequestKind, RequestState

EXPORT_KINDS = (RequestKind.ACCESS, RequestKind.PORTABILITY, RequestKind.SERVICE_DATA_EXPORT)
ERASURE_KINDS = (RequestKind.ERASURE, RequestKind.SERVICE_DATA_DELETION)


def _date(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "DATE_FORMAT") if moment else ""


def _by_due(request: DataSubjectRequest) -> str:
    if request.due_at is None:
        return _("The legal deadline starts when your identity is confirmed.")
    return _("We answer by %(date)s at the latest.") % {"date": _date(request.due_at)}


def _in_progress(request: DataSubjectRequest) -> str:
    if request.kind in EXPORT_KINDS:
        released = request.exports.filter(state=ExportFile.State.RELEASED).first()
        if released is not None:
            return _("Your download is ready below, until %(date)s.") % {
                "date": _date(released.expires_at)
            }
        return _(
            "We are gathering your data. An officer checks the package before we release it; "
            "then a download link appears on this page and we email you."
        )
    if request.kind in ERASURE_KINDS:
        erasure = getattr(request, "erasure", None)
        if erasure is not None and erasure.state == ErasureSchedule.State.SCHEDULED:
            return _(
                "Your erasure is approved. We wait until %(date)s (the %(days)d-day grace "
                "period) so you can change your mind, then erase your data and email you."
            ) % {"date": _date(erasure.due_at), "days": app_settings.ERASURE_GRACE_DAYS}
        return _(
            "An officer checks what we must keep by law. Once the erasure is approved, we wait "
            "%(days)d days so you can cancel it, then erase your data."
        ) % {"days": app_settings.ERASURE_GRACE_DAYS}
    if request.kind == RequestKind.RECTIFICATION:
        return _(
            "An officer checks the correction you asked for, then makes it or tells you why not."
        )
    if request.kind in (RequestKind.RESTRICTION, RequestKind.OBJECTION):
        return _(
            "An officer decides on your request. Once it applies, we stop the use of your data "
            "you named and tell you."
        )
    return _("An officer looks into your complaint and writes to you.")


def request_next_step(request: DataSubjectRequest) -> str:
    """One or two plain sentences: what happens next and by when."""
    state = request.state
    if state == RequestState.AWAITING_CONFIRMATION:
        return _(
            "Open the link we emailed you to confirm that this request is yours. If you do not "
            "confirm within %(days)d days, it lapses and we delete what you sent us."
        ) % {"days": app_settings.CONFIRMATION_DAYS}
    if state == RequestState.RECEIVED:
        return " ".join(
            [
                _(
                    "We first confirm that the request is yours: open the link we emailed you, "
                    "or we contact you."
                ),
                _by_due(request),
            ]
        )
    if state == RequestState.VERIFIED:
        return " ".join(
            [_("A privacy officer reviews your request and starts work on it."), _by_due(request)]
        )
    if state == RequestState.IN_PROGRESS:
        return " ".join([_in_progress(request), _by_due(request)])
    if state == RequestState.COMPLETED:
        if request.kind in EXPORT_KINDS:
            return _("Your request is complete. Download your data below while it is available.")
        return _("Your request is complete. There is nothing more for you to do.")
    if state == RequestState.REJECTED:
        return _(
            "We did not grant this request, for the reason shown above. If you disagree, you "
            "can complain to your data protection supervisory authority."
        )
    if state == RequestState.WITHDRAWN:
        return _("This request is withdrawn; nothing more happens. You can file a new one anytime.")
    return _("This request lapsed because it was never confirmed. File it again if you wish.")
