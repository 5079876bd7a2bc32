from allauth.account import views as allauth_views
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from dsar.ratelimits import limit_consume

from . import (
    child_removal,
    integrations,
    payments,
    services,
    testimonials,
    timing,
    workspaces,
)
from .app_settings import app_settings
from .forms import (
    ChildDataReportForm,
    IntegrationGrantForm,
    PaymentMethodForm,
    ProfileForm,
    SecurityQuestionForm,
    TestimonialApprovalForm,
    TestimonialForm,
    WorkspaceForm,
    WorkspaceMemberForm,
    WorkspaceRecordForm,
)
from .models import Testimonial, User


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
    if not request.user.photo:
        raise Http404(_("You have not uploaded a photo."))
    return _photo_response(request.user)


def _photo_response(user: User) -> FileResponse:
    """A stored photo: always the JPEG we re-encoded, never the uploaded bytes, and marked so that
    no browser treats it as anything else (nosniff comes from SecurityMiddleware)."""
    try:
        handle = user.photo.open("rb")
    except FileNotFoundError:
        raise Http404(_("The photo file is missing.")) from None
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=0, no-store"
    response["Content-Disposition"] = 'inline; filename="photo.jpg"'
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
        if not limit_consume(request, action="child_report", key=key):
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


@sensitive_post_parameters("card_number", "cvc")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def payment_methods(request):
    user = request.user
    form = PaymentMethodForm(
        request.POST if request.method == "POST" else None,
        initial={"billing_country": str(user.country or "")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        card = payments.CardDetails(
            number=data["card_number"],
            expiry_month=data["expiry_month"],
            expiry_year=data["expiry_year"],
            cvc=data["cvc"],
            cardholder_name=data["cardholder_name"],
        )
        try:
            method = payments.payment_method_add(
                user=user, card=card, billing=data, store_token=data["store_for_future"]
            )
        except payments.PaymentDeclined as declined:
            form.add_error(None, str(declined))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Your card ending in %(last4)s has been added.") % {"last4": method.last4},
            )
            return redirect("accounts:payment_methods")
    return render(
        request,
        "accounts/payment_methods.html",
        {
            "form": form,
            "methods": user.payment_methods.all(),
            "invoices": user.invoices.all(),
        },
    )


@login_required
@require_POST
def payment_method_delete(request, method_id: int):
    try:
        payments.payment_method_delete(user=request.user, method_id=method_id)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The card has been removed."))
    return redirect("accounts:payment_methods")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def testimonial(request):
    """The person's own testimonial: write or change it, approve a draft, or withdraw it."""
    user = request.user
    current = Testimonial.objects.filter(user=user).first()
    initial = {}
    if current is not None:
        initial = {
            "text": current.text,
            "display_name": current.display_name,
            "display_details": current.display_details,
        }
    else:
        initial = {"display_name": user.full_name}
    form = TestimonialForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            testimonials.testimonial_write(
                user=user,
                text=data["text"],
                display_name=data["display_name"],
                display_details=data["display_details"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Thank you. Your testimonial is approved as written; we publish it shortly."),
            )
            return redirect("accounts:testimonial")
    awaiting = current is not None and current.state == Testimonial.State.AWAITING_APPROVAL
    return render(
        request,
        "accounts/testimonial.html",
        {
            "form": form,
            "testimonial": current,
            "approval_form": TestimonialApprovalForm(
                initial={"fingerprint": testimonials.testimonial_fingerprint(current)}
            )
            if awaiting
            else None,
        },
    )


@login_required
@require_POST
def testimonial_approve(request):
    form = TestimonialApprovalForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Read the testimonial again before approving it."))
        testimonials.testimonial_approve(
            user=request.user, fingerprint=form.cleaned_data["fingerprint"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Thank you. You approved this testimonial."))
    return redirect("accounts:testimonial")


@login_required
@require_POST
def testimonial_withdraw(request):
    testimonials.testimonial_withdraw(user=request.user)
    messages.success(
        request, _("Your testimonial is withdrawn. It is no longer shown anywhere on our site.")
    )
    return redirect("accounts:testimonial")


@require_http_methods(["GET", "HEAD"])
def testimonials_public(request):
    response = render(
        request,
        "accounts/testimonials_public.html",
        {"testimonials": testimonials.testimonials_published()},
    )
    # A withdrawn testimonial must leave the page at once: no shared cache may keep it.
    response["Cache-Control"] = "no-cache, max-age=0"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def workspace_list(request):
    form = WorkspaceForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        workspace = workspaces.workspace_create(owner=request.user, name=form.cleaned_data["name"])
        return redirect("accounts:workspace_detail", workspace.pk)
    return render(
        request,
        "accounts/workspaces.html",
        {
            "form": form,
            "workspaces": workspaces.workspaces_of(user=request.user),
            "invitations": workspaces.workspace_invitations_of(user=request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def workspace_detail(request, workspace_id: int):
    workspace = workspaces.workspace_for_member(user=request.user, workspace_id=workspace_id)
    is_owner = workspace.owner_id == request.user.pk
    posted = request.POST if request.method == "POST" else None
    action = request.POST.get("action") if posted else None
    record_form = WorkspaceRecordForm(posted if action == "record" else None, prefix="record")
    member_form = WorkspaceMemberForm(posted if action == "member" else None, prefix="member")
    status = 200
    if action == "record" and record_form.is_valid():
        workspaces.workspace_record_create(
            workspace=workspace, actor=request.user, data=record_form.cleaned_data
        )
        messages.success(request, _("The record has been added."))
        return redirect("accounts:workspace_detail", workspace.pk)
    if action == "member" and member_form.is_valid():
        workspaces.workspace_member_invite(
            workspace=workspace, actor=request.user, username=member_form.cleaned_data["username"]
        )
        messages.success(
            request,
            _(
                "If an account with this username exists, we have sent it an invitation. The "
                "person appears here once they accept."
            ),
        )
        return redirect("accounts:workspace_detail", workspace.pk)
    if action and request.method == "POST":
        status = 400
    return render(
        request,
        "accounts/workspace_detail.html",
        {
            "workspace": workspace,
            "is_owner": is_owner,
            "collaborators": workspaces.workspace_collaborators(workspace=workspace),
            "records": workspace.records.all(),
            "record_form": record_form,
            "member_form": member_form,
        },
        status=status,
    )


@login_required
@require_POST
def workspace_record_delete(request, workspace_id: int, record_id: int):
    workspace = workspaces.workspace_for_member(user=request.user, workspace_id=workspace_id)
    try:
        workspaces.workspace_record_delete(
            workspace=workspace, actor=request.user, record_id=record_id
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("accounts:workspace_detail", workspace.pk)


@login_required
@require_POST
def workspace_invitation_answer(request, member_id: int, answer: str):
    """Accept or decline an invitation to a workspace."""
    if answer not in ("accept", "decline"):
        raise Http404
    try:
        if answer == "accept":
            member = workspaces.workspace_invitation_accept(user=request.user, member_id=member_id)
            messages.success(request, _("You now work in this workspace."))
            return redirect("accounts:workspace_detail", member.workspace_id)
        workspaces.workspace_invitation_decline(user=request.user, member_id=member_id)
        messages.success(request, _("You declined the invitation. Nobody saw your name."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("accounts:workspace_list")


@login_required
@require_POST
def workspace_member_remove(request, workspace_id: int, user_id: int):
    workspace = workspaces.workspace_for_member(user=request.user, workspace_id=workspace_id)
    try:
        workspaces.workspace_member_remove(workspace=workspace, actor=request.user, user_id=user_id)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("accounts:workspace_detail", workspace.pk)
    if user_id == request.user.pk:
        return redirect("accounts:workspace_list")
    return redirect("accounts:workspace_detail", workspace.pk)


@login_required
@require_http_methods(["GET", "HEAD"])
def collaborator_photo(request, user_id: int):
    """A collaborator's photo: only to people who share a workspace with them."""
    if user_id != request.user.pk and not workspaces.users_share_a_workspace(
        user=request.user, other_id=user_id
    ):
        raise PermissionDenied(_("You do not work with this person."))
    other = get_object_or_404(User, pk=user_id)
    if not other.photo:
        raise Http404(_("No photo."))
    return _photo_response(other)


@login_required
@require_http_methods(["GET", "POST"])
def integration_enable(request):
    form = IntegrationGrantForm(
        request.POST if request.method == "POST" else None, user=request.user
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            integrations.integration_grant_create(
                user=request.user,
                integration=data["integration"],
                scopes=data["scopes"],
                workspace=data["workspace"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The integration is enabled with the access you chose."))
            return redirect("dsar:dashboard")
    return render(
        request,
        "accounts/integration_enable.html",
        {"form": form, "integrations": integrations.INTEGRATIONS.values()},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def integration_revoke(request, grant_id: int):
    try:
        integrations.integration_grant_revoke(user=request.user, grant_id=grant_id)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("Access revoked. The integration can no longer read your data.")
        )
    return redirect("dsar:dashboard")


class SignupView(allauth_views.SignupView):
    """allauth's sign-up, answering no sooner than ACCOUNTS_SIGNUP_MIN_SECONDS (accounts.timing):
    an address that already has an account must not answer quicker than a new one."""

    def post(self, request, *args, **kwargs):
        with timing.no_sooner_than(app_settings.SIGNUP_MIN_SECONDS):
            return super().post(request, *args, **kwargs)


signup = SignupView.as_view()
