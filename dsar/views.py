from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors, services
from .app_settings import app_settings
from .authorities import authority_for
from .dashboard import dashboard_sections
from .filing_limits import filing_refusal_message, filing_refused_until
from .forms import RequestForm
from .mail import view_token
from .models import RequestKind, RequestState
from .next_steps import request_next_step
from .purposes import processing_use_label


@login_required
def dashboard(request):
    return render(
        request,
        "dsar/dashboard.html",
        {
            "requests": selectors.requests_of_user(user=request.user),
            "sections": dashboard_sections(request),
        },
    )


@require_http_methods(["GET", "POST"])
def request_new(request):
    user = request.user if request.user.is_authenticated else None
    initial = {"kind": request.GET.get("kind")} if request.GET.get("kind") in RequestKind else {}
    if user is not None and getattr(user, "country", None):
        initial["country"] = str(user.country)
    form = RequestForm(
        request.POST if request.method == "POST" else None,
        needs_email=user is None,
        destinations=selectors.transfer_destination_choices(user=user),
        initial=initial,
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data.get("email", "")
        refused_until = filing_refused_until(
            request, kind=form.cleaned_data["kind"], user=user, email=email
        )
        if refused_until is not None:
            # The limiter's status, with the form kept so nothing typed is lost.
            status = 429
            form.add_error(None, filing_refusal_message(refused_until))
        else:
            try:
                dsar_request, joined = services.dsar_request_file(
                    kind=form.cleaned_data["kind"],
                    user=user,
                    email=email,
                    details=form.cleaned_data["details"],
                    purposes=form.cleaned_data["purposes"],
                    country=form.cleaned_data["country"] or "",
                    region=form.cleaned_data["region"],
                    rectification_target=form.cleaned_data["rectification_target"],
                    rectification_value=form.cleaned_data["rectification_value"],
                    recipient_email=form.cleaned_data["recipient_email"],
                    recipient_key=form.cleaned_data.get("recipient_key", ""),
                )
            except services.RequestError as error:
                form.add_error(None, error)
            else:
                return _after_filing(request, dsar_request, joined, user)
    return render(request, "dsar/request_new.html", {"form": form}, status=status)


def _after_filing(request, dsar_request, joined, user):
    if user is None:
        # The same answer whether or not the address is known: no account enumeration.
        return render(
            request,
            "dsar/request_check_email.html",
            {"confirm_days": app_settings.CONFIRMATION_DAYS},
        )
    if joined:
        messages.info(
            request,
            _("You already have this request open, so we added what you wrote to it."),
        )
    else:
        messages.success(request, _("Your request is filed. We have sent you a confirmation."))
    return redirect("dsar:request_detail", public_id=dsar_request.public_id)


@require_http_methods(["GET", "POST"])
def request_confirm(request, token):
    """GET shows a button (mail scanners follow links); POST confirms."""
    if request.method == "GET":
        return render(request, "dsar/request_confirm.html", {"token": token})
    try:
        dsar_request = services.dsar_request_confirm(token=token)
    except services.RequestError as error:
        return render(request, "dsar/link_problem.html", {"message": error.messages[0]}, status=400)
    messages.success(request, _("Thank you: your request is confirmed and we are on it."))
    return redirect(_detail_path(dsar_request, view_token(dsar_request)))


def request_detail(request, public_id):
    token = request.GET.get("t", "")
    dsar_request = selectors.request_for_viewer(public_id=public_id, user=request.user, token=token)
    if dsar_request is None:
        raise Http404(_("No such request, or it is not yours."))
    authority = None
    if dsar_request.kind == RequestKind.COMPLAINT:
        authority = authority_for(str(dsar_request.country))
    return render(
        request,
        "dsar/request_detail.html",
        {
            "dsar_request": dsar_request,
            "uses": [processing_use_label(code) for code in dsar_request.purposes],
            "next_step": request_next_step(dsar_request),
            "events": dsar_request.events.filter(internal=False),
            "authority": authority,
            "exports": dsar_request.exports.filter(state="released"),
            "export_delay": selectors.request_export_delay(dsar_request),
            "erasure": getattr(dsar_request, "erasure", None),
            "systems_waiting": selectors.webhook_wait_words(dsar_request)
            if dsar_request.is_open
            else "",
            "kept": services.erasure_kept(request=dsar_request)
            if hasattr(dsar_request, "erasure")
            else [],
            "transfers": dsar_request.transfers.all(),
            "rectifications": selectors.rectification_history(request=dsar_request),
            "transfer_refusal": services.transfer_naming_refusal(request=dsar_request),
            "destinations": selectors.transfer_destination_choices(user=request.user)
            if dsar_request.user_id
            else [],
            "token": token,
            "can_withdraw": dsar_request.state in services.TRANSITIONS
            and RequestState.WITHDRAWN in services.TRANSITIONS[dsar_request.state],
        },
    )


def _owner_action(request, public_id, action, done_message):
    """A POST by the person whose request it is (logged in, or holding its signed link)."""
    token = request.POST.get("t", "")
    dsar_request = selectors.request_for_viewer(public_id=public_id, user=request.user, token=token)
    if dsar_request is None:
        raise Http404(_("No such request, or it is not yours."))
    user = request.user if request.user.is_authenticated else None
    try:
        action(request=dsar_request, user=user)
    except services.RequestError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, done_message)
    return redirect(_detail_path(dsar_request, token))


@require_POST
def request_withdraw(request, public_id):
    return _owner_action(
        request, public_id, services.dsar_request_withdraw, _("Your request is withdrawn.")
    )


def _detail_path(dsar_request, token: str) -> str:
    path = reverse("dsar:request_detail", args=[dsar_request.public_id])
    return f"{path}?t={token}" if token and dsar_request.user_id is None else path


def export_file_response(export, part: str) -> FileResponse:
    """Always a download, never rendered from our origin (it holds user-supplied text)."""
    field_name, content_type = selectors.EXPORT_PARTS[part]
    response = FileResponse(
        getattr(export, field_name).open("rb"),
        as_attachment=True,
        filename=f"workpex-{export.request.reference}-{part}",
        content_type=content_type,
    )
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox"
    return response


@require_http_methods(["GET"])
def export_download(request, public_id, part):
    token = request.GET.get("t", "")
    user = request.user if request.user.is_authenticated else None
    export = selectors.export_for_subject(public_id=public_id, part=part, user=user, token=token)
    if export is None:
        raise Http404(_("This download does not exist, is not yours, or has expired."))
    try:
        response = export_file_response(export, part)
    except FileNotFoundError:
        services.export_file_missing(export=export, part=part)
        message = _(
            "We cannot find this file in our storage right now. Our privacy team has been told "
            "and will make it available again; you need not make a new request."
        )
        context = {"message": message, "keep_request": True}
        return render(request, "dsar/link_problem.html", context, status=503)
    services.export_download_record(export=export, actor=user, part=part)
    return response


@require_POST
def erasure_cancel(request, public_id):
    return _owner_action(
        request,
        public_id,
        services.erasure_cancel,
        _("The erasure is cancelled. We keep your data."),
    )


@require_POST
def transfer_create(request, public_id):
    """The person names a recipient for their portability package (from the request page)."""

    def name(*, request, user):
        services.transfer_create(
            request=request,
            actor=user,
            recipient_email=post.get("recipient_email", ""),
            recipient_key=post.get("recipient_key", ""),
        )

    post = request.POST
    return _owner_action(
        request,
        public_id,
        name,
        _("Done. The recipient gets your package as soon as it is ready; you see it below."),
    )


@require_POST
def transfer_revoke(request, public_id, transfer_id):
    def revoke(*, request, user):
        services.transfer_revoke(request=request, transfer_id=transfer_id, user=user)

    return _owner_action(
        request, public_id, revoke, _("The transfer is revoked: its link no longer works.")
    )


@require_http_methods(["GET", "POST"])
def transfer_download(request, token):
    """A recipient's one-time link. GET shows a button (mail scanners follow links and must not
    use it up); POST hands the package over, once. Refusals are a plain page without data."""
    try:
        if request.method == "GET":
            transfer = services.transfer_for_token(token=token)
            return render(
                request, "dsar/transfer_download.html", {"expires_at": transfer.expires_at}
            )
        transfer = services.transfer_download_claim(token=token)
    except services.TransferRefused as refusal:
        return render(
            request,
            "dsar/link_problem.html",
            {"message": refusal.messages[0], "third_party": True},
            status=refusal.status,
        )
    return export_file_response(transfer.export, "package.zip")
