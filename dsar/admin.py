import dataclasses
import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from . import registry, selectors, services
from .forms import ExtensionForm, LogRequestForm
from .models import (
    CLOSED_STATES,
    SUBSCRIBABLE_EVENT_TYPES,
    AuditEvent,
    DataSubjectRequest,
    ExportFile,
    ProcessingActivity,
    ProcessingBlock,
    RecipientNotification,
    RectificationProposal,
    RequestEvent,
    RequestKind,
    RequestState,
    ThirdPartyTransfer,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
)
from .services.exports import EXPORT_KINDS
from .staff import staff_assignable, staff_can_work_requests, staff_sees_only_assigned
from .taxonomy import taxonomy_choices
from .textinput import id_from_text
from .translation import TRANSLATED_TEXTS
from .views import export_file_response

OFFICER_PERMISSION = "dsar.work_request"
ASSIGNED_REASON = "Assigned to work this privacy request"
# Moves that close the request and mail the person: the officer confirms them on a page of
# their own first.
CONFIRMED_MOVES = (RequestState.WITHDRAWN, RequestState.REJECTED)
# A reference as it is mailed, "R-96FFA64C": the first 8 hex digits of the public id.
REFERENCE_PATTERN = re.compile(r"^\s*(?:R-)?([0-9a-f]{8})\s*$", re.IGNORECASE)
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
    """How an admin names what staff saw, for the audit log the need-to-know gate writes
    (NeedToKnowAdminMixin): the action of opening a row, and whose row it is (`audit_subject`,
    defined by each admin; without it the gate reads the registry's field paths)."""

    audit_action = "staff_viewed"

    def audit_reason(self, request, obj) -> str:
        """Why staff opened the record, when the admin knows more than the gate does."""
        return ""


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
            ("mine", _("Assigned to me")),
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
        if self.value() == "mine":
            return queryset.filter(assignee=request.user)
        return queryset


class RecipientNotificationInline(ReadOnlyInline):
    model = RecipientNotification
    fields = ("recipient_name", "adapter", "status", "attempts", "done_at", "done_by")
    readonly_fields = fields
    verbose_name_plural = _("Recipients to tell (GDPR Art. 19)")

    @admin.display(description=_("status"))
    def status(self, obj):
        return selectors.recipient_notification_status(obj)


class RectificationProposalInline(ReadOnlyInline):
    """Every value the person proposed, with what became of it (a later value for the same field
    supersedes a pending one; both are kept)."""

    model = RectificationProposal
    fk_name = "request"
    fields = (
        "target",
        "proposed_value",
        "proposed_at",
        "decision",
        "decision_reason",
        "decided_by",
        "decided_at",
    )
    readonly_fields = fields
    verbose_name_plural = _("Proposed corrections (history)")


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
        "status",
        "receipt",
    )
    readonly_fields = fields
    verbose_name_plural = _("Sent to a third party (GDPR Art. 20(2))")

    @admin.display(description=_("status"))
    def status(self, obj):
        return selectors.transfer_status(obj)


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(AuditedViewMixin, admin.ModelAdmin):
    audit_action = "staff_viewed_request"
    list_display = (
        "reference",
        "kind",
        "state",
        "due_display",
        "deadline_law",
        "channel",
        "assignee",
        "filed_at",
    )
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
        "purposes",
        "country",
        "region",
        "deadline_law",
        "channel",
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
    inlines = [
        RectificationProposalInline,
        ThirdPartyTransferInline,
        RecipientNotificationInline,
        RequestEventInline,
    ]
    change_form_template = "admin/dsar/datasubjectrequest/change_form.html"

    def audit_subject(self, obj):
        return services.request_subject(obj)

    def has_add_permission(self, request):
        # People file at /privacy/requests/new/; officers log what came by mail, letter or phone.
        return staff_can_work_requests(request.user)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if staff_sees_only_assigned(request.user):
            queryset = queryset.filter(assignee=request.user)  # support: only what is theirs
        return queryset

    def need_to_know_standing(self, request) -> str:
        # Staff who see only their assigned requests need no window: the assignment is the need.
        return ASSIGNED_REASON if staff_sees_only_assigned(request.user) else ""

    def get_search_results(self, request, queryset, search_term):
        """Also find a request by its reference as mailed: R-96FFA64C, r-96ffa64c or 96ffa64c."""
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        reference = REFERENCE_PATTERN.match(search_term or "")
        if reference:
            found |= queryset.filter(public_id__istartswith=reference.group(1).lower())
        return found, may_have_duplicates

    @admin.display(description=_("deadline rules"))
    def deadline_law(self, obj):
        return obj.deadline_rule.law

    def add_view(self, request, form_url="", extra_context=None):
        """Log a request received by email, letter, phone or in person."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = LogRequestForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                dsar_request, joined = services.dsar_request_log(
                    actor=request.user, **form.cleaned_data
                )
            except services.RequestError as error:
                form.add_error(None, error)
            else:
                if joined:
                    messages.info(
                        request,
                        _("This person has this request open already: what you wrote is added."),
                    )
                else:
                    messages.success(
                        request,
                        _("Request %(ref)s is logged and the person is mailed its reference.")
                        % {"ref": dsar_request.reference},
                    )
                return HttpResponseRedirect(
                    reverse("admin:dsar_datasubjectrequest_change", args=[dsar_request.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Log a request received by email, letter or phone"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/dsar/datasubjectrequest/log_request.html", context)

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
            context["assignable_staff"] = staff_assignable()
            context["extension_form"] = ExtensionForm(rule=obj.deadline_rule)
            context["lift_notice_days"] = services.LIFT_NOTICE_DAYS
            context["act_url"] = reverse("admin:dsar_datasubjectrequest_act", args=[obj.pk])
            context["can_apply"] = (
                obj.state == RequestState.IN_PROGRESS and obj.kind in APPLY_LABELS
            )
            context["apply_label"] = APPLY_LABELS.get(obj.kind, "")
            context["erasure_status"] = (
                selectors.erasure_status(obj.erasure) if hasattr(obj, "erasure") else None
            )
            context["systems_waiting"] = selectors.webhook_wait_words(obj)
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
            context["pending_rectifications"] = self._pending_rectifications(request, obj)
            context["manual_notifications"] = obj.recipient_notifications.filter(
                adapter="", state=RecipientNotification.State.PENDING
            ).select_related("rectification")
            context["active_blocks"] = obj.processing_blocks.filter(
                lifted_at__isnull=True, lift_at__isnull=True
            )
            # Nothing here is edited through the form: every change goes through a service.
            context.update(
                show_save=False, show_save_and_continue=False, show_save_and_add_another=False
            )
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    def _pending_rectifications(self, request, obj) -> list[dict]:
        """The corrections to decide, each beside the value we hold now (reading it is audited;
        only officers, who decide, see it)."""
        if request.method != "GET" or not request.user.has_perm(OFFICER_PERMISSION):
            return []
        rows = [
            row
            for row in selectors.rectification_history(request=obj)
            if row["proposal"].decision == RectificationProposal.Decision.PENDING
        ]
        if rows:
            current = services.dsar_rectification_current_values(request=obj, actor=request.user)
            for row in rows:
                row["current"] = current.get(row["proposal"].target, "—")
        return rows

    def _confirm_move_view(self, request, dsar_request):
        to_state = request.POST["to_state"]
        rejecting = to_state == RequestState.REJECTED
        missing_reason = (
            rejecting
            and request.POST.get("confirmed") == "yes"
            and not request.POST.get("reason", "").strip()
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reject request %(ref)s?") % {"ref": dsar_request.reference}
            if rejecting
            else _("Withdraw request %(ref)s?") % {"ref": dsar_request.reference},
            "opts": self.model._meta,
            "original": dsar_request,
            "to_state": to_state,
            "rejecting": rejecting,
            "reason": request.POST.get("reason", ""),
            "missing_reason": missing_reason,
            "act_url": reverse("admin:dsar_datasubjectrequest_act", args=[dsar_request.pk]),
            "change_url": reverse("admin:dsar_datasubjectrequest_change", args=[dsar_request.pk]),
        }
        return TemplateResponse(
            request,
            "admin/dsar/datasubjectrequest/confirm_move.html",
            context,
            status=400 if missing_reason else 200,
        )

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
            if action == "transition" and _needs_confirmation(request, dsar_request):
                return self._confirm_move_view(request, dsar_request)
            if action == "transition":
                services.dsar_request_transition(
                    request=dsar_request,
                    to_state=request.POST.get("to_state", ""),
                    actor=request.user,
                    reason=request.POST.get("reason", ""),
                )
            elif action == "extend":
                form = ExtensionForm(request.POST, rule=dsar_request.deadline_rule)
                if not form.is_valid():
                    raise services.RequestError(
                        [message for errors in form.errors.values() for message in errors]
                    )
                services.dsar_request_extend(
                    request=dsar_request, actor=request.user, **form.cleaned_data
                )
            elif action == "assign_me":
                services.dsar_request_assign(
                    request=dsar_request, assignee=request.user, actor=request.user
                )
            elif action == "assign":
                assignee = _posted_row(staff_assignable(), request, "assignee")
                services.dsar_request_assign(
                    request=dsar_request, assignee=assignee, actor=request.user
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


def _needs_confirmation(request, dsar_request) -> bool:
    """Withdrawing or rejecting is confirmed on a page of its own; rejecting needs a reason.
    A move the request cannot make goes straight to the service, which says why."""
    to_state = request.POST.get("to_state", "")
    if to_state not in CONFIRMED_MOVES:
        return False
    if to_state not in services.TRANSITIONS.get(dsar_request.state, ()):
        return False
    if request.POST.get("confirmed") != "yes":
        return True
    return to_state == RequestState.REJECTED and not request.POST.get("reason", "").strip()


def _posted_row(queryset, request, name: str):
    """The row of `queryset` whose id was posted as `name`; 404 for anything that is not one
    (get_object_or_404 would hand a non-number to the database and fail with a server error)."""
    pk = id_from_text(request.POST.get(name))
    if pk is None:
        raise Http404(_("No such item."))
    return get_object_or_404(queryset, pk=pk)


class AuditPersonFilter(admin.SimpleListFilter):
    """The events about one person: a user id, a username or an email address, typed in."""

    title = _("person")
    parameter_name = "person"
    template = "admin/dsar/auditevent/person_filter.html"

    def lookups(self, request, model_admin):
        return []

    def has_output(self):
        return True

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.filter(subject_ref__in=selectors.audit_person_refs(self.value()))


class AuditStaffFilter(admin.SimpleListFilter):
    """The events of one staff member (only staff are offered: people's names stay out)."""

    title = _("staff member")
    parameter_name = "staff"

    def lookups(self, request, model_admin):
        return [(str(pk), name) for pk, name in selectors.audit_staff_choices()]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        staff_id = id_from_text(self.value())
        if staff_id is None:
            return queryset.none()
        return queryset.filter(actor_id=staff_id, actor_kind="staff")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "action", "actor", "actor_kind", "subject_ref", "object_type", "reason")
    list_filter = (
        AuditPersonFilter,
        AuditStaffFilter,
        "action",
        "actor_kind",
        ("at", admin.DateFieldListFilter),
    )
    search_fields = ("subject_ref", "action", "object_id", "actor__username")
    list_select_related = ("actor",)
    date_hierarchy = "at"
    change_list_template = "admin/dsar/auditevent/change_list.html"

    def audit_subject(self, obj):
        return selectors.audit_ref_subject(obj.subject_ref)

    def get_urls(self):
        export = path(
            "export.csv",
            self.admin_site.admin_view(self.export_view),
            name="dsar_auditevent_export",
        )
        return [export, *super().get_urls()]

    def export_view(self, request):
        """The events the list shows (same filters), as CSV; the export is itself audited."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        refs = selectors.audit_person_refs(request.GET.get("person", ""))
        lines = services.audit_log_export(
            actor=request.user,
            events=changelist.get_queryset(request),
            person=selectors.audit_ref_subject(refs[0]) if refs else None,
            filters=sorted(k for k in request.GET if k not in ("o", "p")),
        )
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        response["Cache-Control"] = "private, no-store"
        return response


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

    def need_to_know_standing(self, request) -> str:
        return ASSIGNED_REASON if not request.user.has_perm(OFFICER_PERMISSION) else ""

    @admin.display(description=_("status"))
    def status_display(self, obj):
        return selectors.export_status(obj)

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


class ProcessingActivityForm(forms.ModelForm):
    """The Fides keys chosen from the taxonomy itself, never typed. The translated texts are
    named once (`name`): the admin (TranslationAdmin) puts a field per language in their place."""

    data_categories = forms.MultipleChoiceField(
        label=_("data categories"), choices=lambda: taxonomy_choices("data_category")
    )
    data_uses = forms.MultipleChoiceField(
        label=_("data uses"), choices=lambda: taxonomy_choices("data_use")
    )
    data_subjects = forms.MultipleChoiceField(
        label=_("data subjects"), choices=lambda: taxonomy_choices("data_subject")
    )

    class Meta:
        model = ProcessingActivity
        fields = (
            "code",
            "name",
            "description",
            "lawful_basis",
            "legitimate_interest",
            "data_categories",
            "data_uses",
            "data_subjects",
            "recipients",
            "transfers",
            "transfer_safeguard",
            "retention",
            "measures",
            "as_processor",
            "test_mode",
            "position",
        )


class ActivityHistoryHelper(HistoricalRecordContextHelper):
    """The History page lists each change once per language: the plain column modeltranslation
    keeps beside `retention_en` (a copy of the English) is left out."""

    def context_for_delta_changes(self, delta):
        changes = [c for c in delta.changes if c.field not in TRANSLATED_TEXTS]
        return super().context_for_delta_changes(dataclasses.replace(delta, changes=changes))


@admin.register(ProcessingActivity)
class ProcessingActivityAdmin(SimpleHistoryAdmin, TranslationAdmin):
    """Officers edit the words and the policy; the code (which models and fields serve an
    activity, how they are erased) stays in code. Every change is kept in the history.

    The texts people read show one field per language (dsar/translation.py says which each
    activity must have); the form's `name` stands for `name_en` and `name_de`."""

    form = ProcessingActivityForm
    # Said here, not left to the form: TranslationAdmin takes the form's fields as the page's,
    # which would leave out the read-only registry entries.
    fields = (*ProcessingActivityForm.Meta.fields, "registry_entries")
    list_display = (
        "name",
        "code",
        "lawful_basis",
        "transfer_safeguard",
        "as_processor",
        "test_mode",
    )
    list_filter = ("lawful_basis", "as_processor", "test_mode")
    search_fields = ("code", "name_en", "name_de", "description_en", "description_de")
    readonly_fields = ("registry_entries",)

    def get_readonly_fields(self, request, obj=None):
        # The code is the key other code points at: set once, never changed here.
        return (*self.readonly_fields, "code") if obj is not None else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False  # the code and the consent purposes point at activities by their code

    def get_historical_record_context_helper(self, request, historical_record):
        return ActivityHistoryHelper(self.model, historical_record)

    @admin.display(description=_("registry entries (from the code)"))
    def registry_entries(self, obj):
        labels = [e.label for e in registry.entries_for_activity(obj.code)] if obj else []
        return ", ".join(labels) or "—"


# --- Webhooks out (docs/webhooks.md): privacy officers only, by the permissions of their group ---

SECRET_PAGE = "admin/dsar/webhookendpoint/secret.html"


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("address"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("events"),
        choices=SUBSCRIBABLE_EVENT_TYPES,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "An erasure or restriction is not done until every system subscribed to its events "
            "has acknowledged them (GDPR Art. 19)."
        ),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "description", "events", "active")

    def clean(self):
        cleaned = super().clean()
        if "url" in cleaned and "events" in cleaned:
            try:
                services.webhook_endpoint_check(
                    url=cleaned["url"],
                    events=cleaned["events"],
                    description=cleaned.get("description", ""),
                )
            except services.RequestError as error:
                raise forms.ValidationError(error.messages) from None
        return cleaned


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """The systems that receive events. The signing secret is shown once, on the page after
    the endpoint is added or its secret changed, and never again."""

    form = WebhookEndpointForm
    list_display = ("url", "description", "events_display", "active", "created_at")
    list_filter = ("active",)
    readonly_fields = ("secret_display", "created_at", "secret_rotated_at")
    change_form_template = "admin/dsar/webhookendpoint/change_form.html"
    actions = ["switch_off"]
    # Read-only fields other apps add to the change page only (the api app: the client that
    # subscribed the endpoint); the add page stays the form alone.
    change_readonly_fields: tuple = ()

    def has_delete_permission(self, request, obj=None):
        return False  # switched off instead: its deliveries stay visible

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return fields if obj is None else (*fields, *self.change_readonly_fields)

    @admin.action(description=_("Switch off the selected endpoints"), permissions=["change"])
    def switch_off(self, request, queryset):
        endpoints = list(queryset.filter(active=True))
        for endpoint in endpoints:
            services.webhook_endpoint_deactivate(endpoint=endpoint, actor=request.user)
        self.message_user(
            request,
            ngettext(
                "%(count)s endpoint switched off: nothing more is sent to it.",
                "%(count)s endpoints switched off: nothing more is sent to them.",
                len(endpoints),
            )
            % {"count": len(endpoints)},
            "success",
        )

    @admin.display(description=_("events"))
    def events_display(self, obj):
        labels = dict(WebhookEventType.choices)
        return ", ".join(str(labels.get(code, code)) for code in obj.events)

    @admin.display(description=_("signing secret"))
    def secret_display(self, obj):
        return _("Shown once when it was made; make a new one if it was lost.")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.webhook_endpoint_update(
                endpoint=obj,
                url=data["url"],
                events=data["events"],
                description=data.get("description", ""),
                active=data.get("active", False),
                actor=request.user,
            )
            return
        endpoint, secret = services.webhook_endpoint_create(
            url=data["url"],
            events=data["events"],
            description=data.get("description", ""),
            active=data.get("active", False),
            actor=request.user,
        )
        obj.pk = endpoint.pk
        request.webhook_secret = secret

    def response_add(self, request, obj, post_url_continue=None):
        return self._secret_page(request, obj, request.webhook_secret)

    def _secret_page(self, request, endpoint, secret):
        response = TemplateResponse(
            request,
            SECRET_PAGE,
            {
                **self.admin_site.each_context(request),
                "title": _("The endpoint's signing secret"),
                "endpoint": endpoint,
                "secret": secret,
                "opts": self.model._meta,
                "change_url": reverse("admin:dsar_webhookendpoint_change", args=[endpoint.pk]),
            },
        )
        response["Cache-Control"] = "private, no-store"
        return response

    def get_urls(self):
        rotate = path(
            "<int:pk>/new-secret/",
            self.admin_site.admin_view(self.rotate_view),
            name="dsar_webhookendpoint_rotate",
        )
        return [rotate, *super().get_urls()]

    def rotate_view(self, request, pk):
        endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
        if request.method != "POST" or not self.has_change_permission(request, endpoint):
            raise PermissionDenied
        secret = services.webhook_endpoint_rotate_secret(endpoint=endpoint, actor=request.user)
        return self._secret_page(request, endpoint, secret)


class WebhookAttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ("at", "status_code", "error", "detail", "duration_ms")
    readonly_fields = fields
    verbose_name_plural = _("attempts")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every event to every endpoint with its attempts, read-only; a replay sends a delivery
    again with the same event id (receivers deduplicate by it)."""

    list_display = ("event_type", "message_id", "endpoint", "state", "tries", "status_display")
    list_filter = ("state", "event__type", "endpoint")
    list_select_related = ("event", "endpoint", "event__request")
    fields = (
        "event_type",
        "message_id",
        "request_reference",
        "endpoint",
        "state",
        "status_display",
        "tries",
        "due_at",
        "delivered_at",
        "last_status_code",
        "created_at",
    )
    readonly_fields = fields
    inlines = [WebhookAttemptInline]
    actions = ["replay"]

    def lookup_allowed(self, lookup, value, request=None):
        # The request's page links to the deliveries of its events.
        return lookup == "event__request__id__exact" or super().lookup_allowed(
            lookup, value, request
        )

    @admin.display(description=_("event"), ordering="event__type")
    def event_type(self, obj):
        return obj.event.get_type_display()

    @admin.display(description=_("event id"))
    def message_id(self, obj):
        return obj.event.message_id

    @admin.display(description=_("request"))
    def request_reference(self, obj):
        return obj.event.request.reference if obj.event.request_id else "—"

    @admin.display(description=_("status"))
    def status_display(self, obj):
        return selectors.webhook_delivery_status(obj)

    @admin.action(description=_("Replay the selected deliveries (same event id)"))
    def replay(self, request, queryset):
        if not request.user.has_perm("dsar.change_webhookdelivery"):
            self.message_user(request, _("Only privacy officers may replay deliveries."), "error")
            return
        queued = services.webhook_deliveries_replay(deliveries=queryset, actor=request.user)
        self.message_user(
            request, _("%(count)s delivery(ies) queued again.") % {"count": queued}, "success"
        )
