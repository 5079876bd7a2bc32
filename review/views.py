"""What the people of a workspace do: report a message as spam, send a scan to be checked, and
see how their items went. Staff pages are in `review.admin`."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.workspaces import workspace_for_member

from . import selectors, services
from .app_settings import app_settings
from .forms import ScanForm, SpamReportForm


@login_required
@require_http_methods(["GET", "POST"])
def workspace_reviews(request, workspace_id: int):
    workspace = workspace_for_member(user=request.user, workspace_id=workspace_id)
    action = request.POST.get("action") if request.method == "POST" else None
    spam_form = SpamReportForm(request.POST if action == "spam" else None, prefix="spam")
    scan_form = ScanForm(
        request.POST if action == "scan" else None,
        request.FILES if action == "scan" else None,
        prefix="scan",
    )
    try:
        if action == "spam" and spam_form.is_valid():
            services.spam_report_create(
                workspace=workspace, reporter=request.user, **spam_form.cleaned_data
            )
            messages.success(request, _("Thank you. A reviewer will check the message."))
            return redirect("review:workspace_reviews", workspace.pk)
        if action == "scan" and scan_form.is_valid():
            services.scan_submit(
                workspace=workspace,
                uploader=request.user,
                upload=scan_form.cleaned_data["image"],
                recognised_text=scan_form.cleaned_data["recognised_text"],
            )
            messages.success(request, _("Thank you. A reviewer will check the recognised text."))
            return redirect("review:workspace_reviews", workspace.pk)
    except ValidationError as error:
        (spam_form if action == "spam" else scan_form).add_error(None, error)
    return render(
        request,
        "review/workspace_reviews.html",
        {
            "workspace": workspace,
            "items": selectors.workspace_review_items(workspace=workspace),
            "spam_form": spam_form,
            "scan_form": scan_form,
            "open_days": app_settings.OPEN_DAYS,
            "result_days": app_settings.RESULT_DAYS,
        },
        status=400 if action else 200,
    )
