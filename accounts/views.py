from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from . import child_removal, services
from .forms import ChildDataReportForm, ProfileForm, SecurityQuestionForm
from .models import User


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    user = request.user
    if request.method == "POST":
        # The form validates a copy, so a refused edit leaves request.user as stored.
        form = ProfileForm(request.POST, request.FILES, instance=User.objects.get(pk=user.pk))
        if form.is_valid():
            services.user_profile_update(user=user, data=form.cleaned_data)
            if user.language:  # say it in the language just chosen
                translation.activate(user.language)
            messages.success(request, _("Your profile has been saved."))
            return redirect("accounts:profile")
    else:
        form = ProfileForm(instance=user)
    return render(request, "accounts/profile.html", {"form": form})


@login_required
@require_http_methods(["GET", "HEAD"])
def profile_photo(request):
    """The signed-in user's own photo. Uploads are never served from a public URL."""
    photo = request.user.photo
    if not photo:
        raise Http404(_("You have not uploaded a photo."))
    try:
        handle = photo.open("rb")
    except FileNotFoundError:
        raise Http404(_("The photo file is missing.")) from None
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=0, no-store"
    response["Content-Disposition"] = "inline"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def security_question(request):
    user = request.user
    form = SecurityQuestionForm(request.POST if request.method == "POST" else None, user=user)
    if request.method == "POST" and form.is_valid():
        services.user_security_question_set(
            user=user, question=form.cleaned_data["question"], answer=form.cleaned_data["answer"]
        )
        messages.success(
            request,
            _("Your security question is set. We ask it only when you reset your password."),
        )
        return redirect("accounts:profile")
    return render(request, "accounts/security_question.html", {"form": form})


@login_required
@require_POST
def security_question_clear(request):
    services.user_security_question_clear(user=request.user)
    messages.success(request, _("Your security question has been removed."))
    return redirect("accounts:profile")


@require_http_methods(["GET", "POST"])
def child_report(request):
    """Anyone may tell us that a child under 16 gave us personal data (no login needed)."""
    form = ChildDataReportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        key = form.cleaned_data["reporter_email"].casefold()
        if not ratelimit.consume(request, action="child_report", key=key):
            form.add_error(
                None, _("You have sent several reports in a short time. Please try again later.")
            )
        else:
            try:
                child_removal.child_report_submit(**form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return redirect("accounts:child_report_thanks")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/child_report.html", {"form": form}, status=status)


def child_report_thanks(request):
    return render(request, "accounts/child_report_thanks.html")
