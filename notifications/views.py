"""The person's devices in the portal, and the two endpoints the apps call.

Apps sign in as the portal does (the session cookie) and send the CSRF token in the
`X-CSRFToken` header; the body is JSON or a form: `platform` (apple, google, windows), `token`
and, when registering, an optional `name`.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from dsar.textinput import json_object_parse

from . import services
from .forms import DeviceForm
from .models import Device
from .selectors import devices_for


@never_cache
@login_required
@require_GET
def device_list(request):
    return render(
        request, "notifications/devices.html", {"devices": devices_for(user=request.user)}
    )


@login_required
@require_POST
def device_remove(request, device_id: int):
    try:
        services.device_remove(user=request.user, device_id=device_id)
    except Device.DoesNotExist:
        raise Http404(_("You have no such device.")) from None
    messages.success(
        request,
        _("The device is removed: it gets no more notifications, and its token is deleted."),
    )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "notifications:devices"
    return redirect(target)


def _api_login_required(view):
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return JsonResponse({"error": _("Sign in first.")}, status=401)
        return view(request, *args, **kwargs)

    return wrapped


def _api_form(request) -> DeviceForm:
    """The device form from a JSON object or form fields; a body that is not a small, shallow
    JSON object raises a ValidationError that says why."""
    if request.content_type == "application/json":
        data = json_object_parse(request.body)
        return DeviceForm({k: v for k, v in data.items() if isinstance(v, str)})
    return DeviceForm(request.POST)


def _errors(form_or_error) -> JsonResponse:
    if isinstance(form_or_error, ValidationError):
        return JsonResponse({"error": " ".join(form_or_error.messages)}, status=400)
    return JsonResponse(
        {"error": _("Check the fields."), "fields": form_or_error.errors}, status=400
    )


@never_cache
@require_POST
@_api_login_required
def api_device_register(request):
    try:
        form = _api_form(request)
    except ValidationError as error:
        return _errors(error)
    if not form.is_valid():
        return _errors(form)
    try:
        device, created = services.device_register(
            user=request.user,
            platform=form.cleaned_data["platform"],
            token=form.cleaned_data["token"],
            name=form.cleaned_data["name"],
        )
    except ValidationError as error:
        return _errors(error)
    return JsonResponse(
        {
            "id": device.pk,
            "platform": device.platform,
            "name": device.name,
            "registered_at": device.registered_at.isoformat(),
        },
        status=201 if created else 200,
    )


@never_cache
@require_POST
@_api_login_required
def api_device_sign_out(request):
    try:
        form = _api_form(request)
    except ValidationError as error:
        return _errors(error)
    if not form.is_valid():
        return _errors(form)
    if not services.device_sign_out(
        user=request.user,
        platform=form.cleaned_data["platform"],
        token=form.cleaned_data["token"],
    ):
        return JsonResponse({"error": _("You have no such device.")}, status=404)
    return JsonResponse({"signed_out": True})
