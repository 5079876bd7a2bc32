from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from consent.forms import ReasonForm
from dsar.admin import AuditedViewMixin, ReadOnlyAdminMixin, ReadOnlyInline
from dsar.registry import Subject
from dsar.services import audit_record as services_audit

from . import child_removal, staff_access, testimonials
from .forms import StaffAccessWindowForm, TestimonialDraftForm
from .models import (
    ChildDataReport,
    StaffAccessWindow,
    Testimonial,
    User,
    Workspace,
    WorkspaceRecord,
)


def _adopt(obj, saved) -> None:
    """The admin logs and redirects with its own instance: give it the row the service saved."""
    obj.__dict__.update({k: v for k, v in saved.__dict__.items() if k != "_state"})
    obj._state.adding = False


@admin.register(User)
class UserAdmin(AuditedViewMixin, DjangoUserAdmin):
    audit_action = "staff_viewed_profile"

    list_display = ("username", "full_name", "email", "country", "is_staff", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups", "country")
    search_fields = ("username", "full_name", "email", "company_name")
    ordering = ("-date_joined",)
    readonly_fields = ("last_login", "date_joined", "security_question")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            _("Personal information"),
            {
                "fields": (
                    "full_name",
                    "email",
                    "phone",
                    "company_name",
                    "country",
                    "region",
                    "date_of_birth",
                    "time_zone",
                    "language",
                    "security_question",
                )
            },
        ),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )

    def audit_subject(self, obj):
        return Subject(user_id=obj.pk)

    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "full_name", "email", "password1", "password2"),
            },
        ),
    )


@admin.register(Testimonial)
class TestimonialAdmin(AuditedViewMixin, admin.ModelAdmin):
    """Staff draft testimonials from feedback and publish approved ones; the approved text is
    the author's and cannot be edited here."""

    audit_action = "staff_viewed_testimonial"
    form = TestimonialDraftForm
    list_display = ("display_name", "user", "state", "approved_at", "published_at")
    list_filter = ("state",)
    search_fields = ("display_name", "user__username")
    raw_id_fields = ("user",)
    readonly_fields = (
        "state",
        "approved_text",
        "approved_name",
        "approved_details",
        "approved_at",
        "published_at",
    )
    actions = ["publish"]

    def audit_subject(self, obj):
        return Subject(user_id=obj.user_id)

    def has_change_permission(self, request, obj=None):
        # An approved or published testimonial belongs to its author: only they change it.
        if obj is not None and obj.state != Testimonial.State.AWAITING_APPROVAL:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            saved = testimonials.testimonial_draft(
                staff=request.user,
                user=data["user"],
                feedback=data["feedback"],
                text=data["text"],
                display_name=data["display_name"],
                display_details=data["display_details"],
            )
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            _adopt(obj, saved)

    @admin.action(description=_("Publish the selected approved testimonials"))
    def publish(self, request, queryset):
        published = 0
        for testimonial in queryset:
            try:
                testimonials.testimonial_publish(staff=request.user, testimonial=testimonial)
                published += 1
            except ValidationError as error:
                self.message_user(
                    request, f"{testimonial}: {' '.join(error.messages)}", messages.WARNING
                )
        if published:
            self.message_user(request, _("Published: %(n)d.") % {"n": published})


class WorkspaceRecordInline(ReadOnlyInline):
    model = WorkspaceRecord
    fields = ("kind", "name", "email", "phone", "notes", "created_at")
    readonly_fields = fields


@admin.register(Workspace)
class WorkspaceAdmin(AuditedViewMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Service data, read-only, for technical support: behind the need-to-know gate (an
    access window for support staff)."""

    audit_action = "staff_viewed_service_data"
    list_display = ("name", "owner", "created_at")
    search_fields = ("owner__username",)
    readonly_fields = ("name", "owner", "created_at")
    fields = readonly_fields
    inlines = [WorkspaceRecordInline]

    def audit_subject(self, obj):
        return Subject(user_id=obj.owner_id)


@admin.register(StaffAccessWindow)
class StaffAccessWindowAdmin(admin.ModelAdmin):
    """Support staff open a window here (ticket, reason, minutes); nobody changes one after."""

    form = StaffAccessWindowForm
    list_display = ("ticket_reference", "staff", "subject_user", "starts_at", "expires_at")
    list_filter = ("staff",)
    raw_id_fields = ("subject_user",)

    def get_queryset(self, request):
        rows = super().get_queryset(request).select_related("staff", "subject_user")
        if staff_access.staff_needs_window(request.user):
            return rows.filter(staff=request.user)
        return rows

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        window = staff_access.staff_access_open(
            staff=request.user,
            subject_user=data["subject_user"],
            ticket_reference=data["ticket_reference"],
            reason=data["reason"],
            minutes=data["minutes"],
        )
        _adopt(obj, window)


@admin.register(ChildDataReport)
class ChildDataReportAdmin(AuditedViewMixin, admin.ModelAdmin):
    """The officers' queue of reports about children's data: review, then confirm (the removal
    runs in a worker) or reject with a reason (the reporter is told). Rows the sweep made need
    no review and show how their removal went."""

    audit_action = "staff_viewed_child_report"
    list_display = ("created_at", "source", "state", "relationship", "user", "closed_at")
    list_filter = ("state", "source", "relationship")
    ordering = ("state", "-created_at")
    raw_id_fields = ("user",)
    actions = ["confirm_reports", "reject_reports"]
    fieldsets = (
        (
            _("Report"),
            {
                "fields": (
                    "source",
                    "state",
                    "created_at",
                    "reporter_name",
                    "reporter_email",
                    "relationship",
                    "child_name",
                    "child_email",
                    "child_username",
                    "details",
                )
            },
        ),
        (_("Account found"), {"fields": ("user",)}),
        (
            _("Decision and removal"),
            {
                "fields": (
                    "reviewed_by",
                    "reviewed_at",
                    "decision_reason",
                    "removal_status",
                    "attempts",
                    "started_at",
                    "reporter_told_at",
                    "counts",
                    "closed_at",
                )
            },
        ),
    )

    def audit_subject(self, obj):
        if obj.user_id is not None:
            return Subject(user_id=obj.user_id)
        if obj.child_email:
            return Subject(email=obj.child_email)
        return None

    @admin.display(description=_("removal"))
    def removal_status(self, obj):
        return child_removal.child_removal_status(obj)

    def get_readonly_fields(self, request, obj=None):
        fields = [f.name for f in ChildDataReport._meta.fields] + ["removal_status"]
        if obj is not None and obj.state == ChildDataReport.State.RECEIVED:
            fields.remove("user")  # the officer may correct the account the report is about
        return fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_review_permission(self, request):
        return request.user.has_perm("accounts.review_childdatareport")

    def save_model(self, request, obj, form, change):
        # Only the account of a report waiting for review can be changed here.
        if obj.state == ChildDataReport.State.RECEIVED:
            ChildDataReport.objects.filter(pk=obj.pk, state=obj.state).update(user=obj.user)
            services_audit(
                action="child_report_account_chosen",
                actor=request.user,
                subject=Subject(user_id=obj.user_id) if obj.user_id else None,
                obj=obj,
            )

    def _run(self, request, queryset, service, **kwargs):
        done = 0
        for report in queryset:
            try:
                service(report=report, actor=request.user, **kwargs)
            except ValidationError as error:
                messages.error(request, f"#{report.pk}: {' '.join(error.messages)}")
            else:
                done += 1
        return done

    @admin.action(
        description=_("Confirm: remove everything held about the child"),
        permissions=["review"],
    )
    def confirm_reports(self, request, queryset):
        done = self._run(request, queryset, child_removal.child_report_confirm)
        if done:
            messages.success(
                request,
                _("%(n)d removal(s) confirmed: a worker runs them now, then tells the reporter.")
                % {"n": done},
            )

    @admin.action(description=_("Reject (the reporter is told the reason)"), permissions=["review"])
    def reject_reports(self, request, queryset):
        form = ReasonForm(request.POST if "reason" in request.POST else None)
        if form.is_valid():
            done = self._run(
                request,
                queryset,
                child_removal.child_report_reject,
                reason=form.cleaned_data["reason"],
            )
            if done:
                messages.success(request, _("%(n)d report(s) rejected.") % {"n": done})
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "queryset": queryset,
            "action": "reject_reports",
            "title": _("Reject reports about a child's data"),
            "explanation": _(
                "Nothing is removed. The reporter is emailed the reason, and the details about "
                "the person are not kept."
            ),
        }
        return TemplateResponse(request, "admin/reason_action.html", context)
