from django.contrib import admin, messages
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import selectors, services
from .forms import ExtensionForm
from .models import (
    CLOSED_STATES,
    AuditEvent,
    DataSubjectRequest,
    ExportFile,
    ProcessingBlock,
    RecipientNotification,
    RectificationProposal,
    RequestEvent,
    RequestKind,
    RequestState,
    ThirdPartyTransfer,
)
from .registry import Subject
from .services.exports import EXPORT_KINDS
from .views import export_file_response

OFFICER_PERMISSION = "dsar.work_request"
APPLY_LABELS = {
    RequestKind.RESTRICTION: _("Apply the restriction"),
    RequestKind.OBJECTION: _("Uphold the objection"),
    RequestKind.ACCESS: _("Build the access report"),
    RequestKind.PORTABILITY: _("Build the portable package"),
    RequestKind.SERVICE_DATA_EXPORT: _("Build the service-data package"),
    RequestKind.ERASURE: _("Approve the erasure (runs after the grace period)"),
    RequestKind.SERVICE_DATA_DELETION: _("Approve the deletion (runs after the grace period)"),
}


class ReadOnlyAdminMixin:
    """Rows shown in the admin that nobody adds, changes or deletes there."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False


class AuditedViewMixin:
    """Staff opening a person's record in the admin is written to the audit log."""

    audit_action = "staff_viewed"

    def audit_subject(self, obj) -> Subject | None:
        raise NotImplementedError

    def audit_reason(self, request, obj) -> str:
        """Why staff opened the record, when the admin knows (an access window's reason)."""
        return ""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = self.get_object(request, object_id)
        if obj is not None and request.method == "GET" and response.status_code == 200:
            services.audit_record(
                action=self.audit_action,
                actor=request.user,
                subject=self.audit_subject(obj),
                reason=self.audit_reason(request, obj),
                obj=obj,
            )
        return response


class RequestEventInline(ReadOnlyInline):
    model = RequestEvent
    fields = ("at", "kind", "actor", "from_state", "to_state", "text", "internal")
    readonly_fields = fields
    verbose_name_plural = _("Timeline")


class OverdueFilter(admin.SimpleListFilter):
    title = _("due")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("Overdue")),
            ("week", _("Due within 7 days")),
            ("unassigned", _("Open and unassigned")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        open_requests = queryset.exclude(state__in=CLOSED_STATES)
        if self.value() == "overdue":
            return open_requests.filter(due_at__lt=now)
        if self.value() == "week":
            return open_requests.filter(due_at__gte=now, due_at__lt=now + timezone.timedelta(7))
        if self.value() == "unassigned":
            return open_requests.filter(assignee__isnull=True)
        return queryset


class RecipientNotificationInline(ReadOnlyInline):
    model = RecipientNotification
    fields = ("recipient_name", "adapter", "state", "attempts", "last_error", "done_at", "done_by")
    readonly_fields = fields
    verbose_name_plural = _("Recipients to tell (GDPR Art. 19)")


class ThirdPartyTransferInline(ReadOnlyInline):
    model = ThirdPartyTransfer
    fields = (
        "recipient_email",
        "recipient_name",
        "state",
        "created_at",
        "sent_at",
        "expires_at",
        "received_at",
        "revoked_at",
        "attempts",
        "last_error",
        "receipt",
    )
    readonly_fields = fields
    verbose_name_plural = _("Sent to a third party (GDPR Art. 20(2))")


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(AuditedViewMixin, admin.ModelAdmin):
    audit_action = "staff_viewed_request"
    list_display = ("reference", "kind", "state", "due_display", "assignee", "filed_at")
    list_filter = (OverdueFilter, "kind", "state", "assignee")
    list_select_related = ("assignee",)
    search_fields = ("email", "user__username", "user__email", "public_id")
    readonly_fields = (
        "reference",
        "kind",
        "state",
        "user",
        "email",
        "details",
        "purpose",
        "country",
        "filed_at",
        "received_at",
        "verified_at",
        "original_due_at",
        "due_at",
        "extended_at",
        "extension_reason",
        "closed_at",
        "outcome",
        "assignee",
    )
    fields = readonly_fields
    inlines = [ThirdPartyTransferInline, RecipientNotificationInline, RequestEventInline]
    change_form_template = "admin/dsar/datasubjectrequest/change_form.html"

    def audit_subject(self, obj):
        return services.request_subject(obj)

    def has_add_permission(self, request):
        return False  # requests are filed by people, at /privacy/requests/new/

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if not request.user.has_perm(OFFICER_PERMISSION):
            queryset = queryset.filter(assignee=request.user)  # support: only what is theirs
        return queryset

    def get_ordering(self, request):
        closed_last = Case(
            When(state__in=CLOSED_STATES, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
        return (closed_last.asc(), "due_at", "filed_at")  # open first, overdue on top

    @admin.display(description=_("due"), ordering="due_at")
    def due_display(self, obj):
        if obj.due_at is None or obj.state in CLOSED_STATES:
            return "—"
        if obj.due_at < timezone.now():
            return format_html(
                '<strong class="errornote">{} ({})</strong>', obj.due_at.date(), _("overdue")
            )
        return obj.due_at.date()

    def _export_links(self, export):
        if export.state not in (ExportFile.State.READY, ExportFile.State.RELEASED):
            return []
        parts = ["report.html", "report.json"] if export.kind == "access" else ["package.zip"]
        return [
            (part, reverse("admin:dsar_export_review", args=[export.request_id, export.pk, part]))
            for part in parts
        ]

    def export_review_view(self, request, pk, export_pk, part):
        """Only the officer assigned to the request downloads the package, to review it."""
        dsar_request = get_object_or_404(self.get_queryset(request), pk=pk)
        export = get_object_or_404(
            dsar_request.exports.filter(
                state__in=[ExportFile.State.READY, ExportFile.State.RELEASED]
            ),
            pk=export_pk,
        )
        if dsar_request.assignee_id != request.user.pk or part not in selectors.EXPORT_PARTS:
            services.audit_record(
                action="export_download_refused",
                actor=request.user,
                subject=services.request_subject(dsar_request),
                obj=export,
            )
            # A response, not an exception: the audit event of the refusal must be committed.
            return render(
                request,
                "403.html",
                {"exception": _("Only the officer assigned to this request may download it.")},
                status=403,
            )
        services.export_download_record(export=export, actor=request.user, part=part)
        return export_file_response(export, part)

    def get_urls(self):
        return [
            path(
                "<int:pk>/exports/<int:export_pk>/<str:part>",
                self.admin_site.admin_view(self.export_review_view),
                name="dsar_export_review",
            ),
            path(
                "<int:pk>/act/",
                self.admin_site.admin_view(self.act_view),
                name="dsar_datasubjectrequest_act",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        if obj is not None:
            context["transitions"] = [
                (state, RequestState(state).label)
                for state in services.TRANSITIONS.get(obj.state, ())
                if state not in (RequestState.RECEIVED, RequestState.LAPSED)
            ]
            context["can_work"] = request.user.has_perm(OFFICER_PERMISSION)
            context["extension_form"] = ExtensionForm()
            context["lift_notice_days"] = services.LIFT_NOTICE_DAYS
            context["act_url"] = reverse("admin:dsar_datasubjectrequest_act", args=[obj.pk])
            context["can_apply"] = (
                obj.state == RequestState.IN_PROGRESS and obj.kind in APPLY_LABELS
            )
            context["apply_label"] = APPLY_LABELS.get(obj.kind, "")
            context["exports"] = [
                {
                    "export": export,
                    "links": self._export_links(export),
                    "status": selectors.export_status(export),
                    "redaction_choices": services.export_redaction_choices(export=export)
                    if export.state == ExportFile.State.READY
                    else [],
                }
                for export in obj.exports.all()
            ]
            context["pending_rectifications"] = obj.rectifications.filter(
                decision=RectificationProposal.Decision.PENDING
            )
            context["manual_notifications"] = obj.recipient_notifications.filter(
                adapter="", state=RecipientNotification.State.PENDING
            )
            context["active_blocks"] = obj.processing_blocks.filter(
                lifted_at__isnull=True, lift_at__isnull=True
            )
            # Nothing here is edited through the form: every change goes through a service.
            context.update(
                show_save=False, show_save_and_continue=False, show_save_and_add_another=False
            )
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    def act_view(self, request, pk):
        """The officer's buttons: transitions, extension, assignment, internal notes."""
        dsar_request = get_object_or_404(self.get_queryset(request), pk=pk)
        change_url = reverse("admin:dsar_datasubjectrequest_change", args=[pk])
        if request.method != "POST" or not request.user.has_perm(OFFICER_PERMISSION):
            messages.error(request, _("You are not allowed to work on requests."))
            return HttpResponseRedirect(change_url)
        action = request.POST.get("action", "")
        done = _("Done.")
        try:
            if action == "transition":
                services.dsar_request_transition(
                    request=dsar_request,
                    to_state=request.POST.get("to_state", ""),
                    actor=request.user,
                    reason=request.POST.get("reason", ""),
                )
            elif action == "extend":
                form = ExtensionForm(request.POST)
                if not form.is_valid():
                    raise services.RequestError(_("Choose one or two months and give a reason."))
                services.dsar_request_extend(
                    request=dsar_request, actor=request.user, **form.cleaned_data
                )
            elif action == "assign_me":
                services.dsar_request_assign(
                    request=dsar_request, assignee=request.user, actor=request.user
                )
            elif action == "apply":
                services.dsar_request_apply(request=dsar_request, actor=request.user)
                if dsar_request.kind in EXPORT_KINDS:
                    done = _("The package is queued: it is built in the background.")
            elif action == "retry_export":
                export = _posted_row(dsar_request.exports, request, "export")
                services.export_retry(export=export, actor=request.user)
                done = _("The package is queued again: it is built in the background.")
            elif action == "notified_by_hand":
                notification = _posted_row(
                    dsar_request.recipient_notifications, request, "notification"
                )
                services.recipient_notification_mark_done(
                    notification=notification, actor=request.user
                )
            elif action == "announce_lift":
                block = _posted_row(dsar_request.processing_blocks, request, "block")
                services.processing_block_announce_lift(
                    block=block, actor=request.user, reason=request.POST.get("reason", "")
                )
            elif action in ("rectify_apply", "rectify_reject"):
                proposal = _posted_row(dsar_request.rectifications, request, "proposal")
                services.dsar_rectification_decide(
                    proposal=proposal,
                    approve=action == "rectify_apply",
                    actor=request.user,
                    reason=request.POST.get("reason", ""),
                )
            elif action == "release":
                export = _posted_row(dsar_request.exports, request, "export")
                services.export_release(export=export, actor=request.user)
            elif action == "redact":
                export = _posted_row(dsar_request.exports, request, "export")
                fields = [
                    f.strip()
                    for value in request.POST.getlist("fields")
                    for f in value.split(",")
                    if f.strip()
                ]
                label, row_id = request.POST.get("model", ""), request.POST.get("row", "").strip()
                if not (label and row_id and fields):
                    raise services.RequestError(_("Choose the data, the row and the fields."))
                services.export_redact(
                    export=export,
                    redactions={label: {row_id: fields}},
                    reason=request.POST.get("reason", ""),
                    actor=request.user,
                )
            elif action == "note":
                services.dsar_request_note(
                    request=dsar_request, text=request.POST.get("text", ""), actor=request.user
                )
            else:
                raise services.RequestError(_("Unknown action."))
        except services.RequestError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, done)
        return HttpResponseRedirect(change_url)


def _posted_row(queryset, request, name: str):
    """The row of `queryset` whose id was posted as `name`; 404 for anything that is not one
    (get_object_or_404 would hand a non-number to the database and fail with a server error)."""
    value = request.POST.get(name, "")
    if not (value.isascii() and value.isdigit()):
        raise Http404(_("No such item."))
    return get_object_or_404(queryset, pk=int(value))


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "action", "actor", "actor_kind", "subject_ref", "object_type", "reason")
    list_filter = ("action", "actor_kind", ("at", admin.DateFieldListFilter))
    search_fields = ("subject_ref", "action", "object_id", "actor__username")
    list_select_related = ("actor",)
    date_hierarchy = "at"


@admin.register(ProcessingBlock)
class ProcessingBlockAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("kind", "purpose", "user", "created_at", "lifted_at")
    list_filter = ("kind", "purpose", ("lifted_at", admin.EmptyFieldListFilter))
    readonly_fields = ("kind", "user", "email", "purpose", "reason", "created_at", "lifted_at")


@admin.register(ExportFile)
class ExportFileAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Packages across requests, to find failed builds and retry them. The files themselves are
    reviewed from the request's page (only by its assigned officer)."""

    list_display = ("request", "kind", "state", "attempts", "status_display", "created_at")
    list_filter = ("state", "kind")
    list_select_related = ("request",)
    search_fields = ("request__public_id",)
    fields = (
        "request",
        "kind",
        "state",
        "attempts",
        "status_display",
        "created_at",
        "started_at",
        "ready_at",
        "released_at",
        "expires_at",
        "deleted_at",
    )
    readonly_fields = fields
    actions = ["retry_failed"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if not request.user.has_perm(OFFICER_PERMISSION):
            queryset = queryset.filter(request__assignee=request.user)
        return queryset

    @admin.display(description=_("status"))
    def status_display(self, obj):
        status = selectors.export_status(obj)
        if not status["detail"]:
            return status["text"]
        return format_html(
            "{}<details><summary>{}</summary><pre>{}</pre></details>",
            status["text"],
            _("Technical detail (for the technical team)"),
            status["detail"],
        )

    @admin.action(description=_("Retry the selected failed builds"))
    def retry_failed(self, request, queryset):
        if not request.user.has_perm(OFFICER_PERMISSION):
            self.message_user(request, _("You are not allowed to work on requests."), "error")
            return
        retried = 0
        for export in queryset.filter(state=ExportFile.State.FAILED):
            services.export_retry(export=export, actor=request.user)
            retried += 1
        self.message_user(
            request, _("%(count)s package(s) queued again.") % {"count": retried}, "success"
        )

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(OFFICER_PERMISSION) or super().has_view_permission(
            request, obj
        )
