import csv

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dsar.registry import Subject
from dsar.services import audit_record

from . import services
from .forms import RecordOnRequestForm
from .models import ConsentEvent, FormSubmission, PageViewCount, Partner, PolicyVersion, Purpose


@admin.register(Purpose)
class PurposeAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "code",
        "channel",
        "legal_basis",
        "is_essential",
        "is_direct_marketing",
        "per_partner",
        "is_active",
        "position",
    )
    list_filter = ("channel", "legal_basis", "is_essential", "is_direct_marketing", "is_active")
    search_fields = ("code", "name")
    ordering = ("position", "code")

    def get_readonly_fields(self, request, obj=None):
        # Code refers to the purpose from other code and from the ledger: fixed once made.
        return ("code",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False  # the ledger points at purposes; switch one off with "active" instead


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "website", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "code")

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False  # the ledger points at partners; switch one off with "active" instead


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    list_display = ("version", "effective_at", "published_at", "is_material")
    readonly_fields = (
        "version",
        "text",
        "summary_of_changes",
        "is_material",
        "published_at",
        "effective_at",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SubjectFilter(admin.SimpleListFilter):
    """Filter the ledger by one person: username, account email, or an email without account."""

    title = gettext_lazy("person")
    parameter_name = "subject"
    template = "admin/consent/subject_filter.html"

    def lookups(self, request, model_admin):
        return [("", "")]  # the template shows a text box instead of choices

    def has_output(self):
        return True

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        if not value:
            return queryset
        match = Q(user__username=value) | Q(user__email__iexact=value) | Q(email=value.lower())
        if value.isdigit():
            match |= Q(user_id=int(value))
        return queryset.filter(match)


class SubjectKindFilter(admin.SimpleListFilter):
    title = gettext_lazy("kind of person")
    parameter_name = "subject_kind"

    def lookups(self, request, model_admin):
        return [("account", _("Account holder")), ("email", _("Email only, no account"))]

    def queryset(self, request, queryset):
        if self.value() == "account":
            return queryset.filter(user__isnull=False)
        if self.value() == "email":
            return queryset.filter(user__isnull=True)
        return queryset


class _Echo:
    def write(self, value):
        return value


CSV_COLUMNS = [
    "id",
    "time",
    "user_id",
    "email",
    "purpose",
    "partner",
    "action",
    "method",
    "policy_version",
    "ip_hash",
    "recorded_by_id",
    "reason",
]


@admin.register(ConsentEvent)
class ConsentEventAdmin(admin.ModelAdmin):
    """The ledger, read-only. Changes come from people themselves, or from an officer recording a
    person's written request (with the reason)."""

    list_display = (
        "at",
        "subject_display",
        "purpose",
        "partner",
        "action",
        "method",
        "policy_version",
    )
    list_filter = (
        SubjectFilter,
        "purpose",
        "partner",
        "action",
        "method",
        SubjectKindFilter,
        ("at", admin.DateFieldListFilter),
    )
    date_hierarchy = "at"
    list_select_related = ("user", "purpose", "partner", "policy_version")
    actions = ["export_csv"]
    change_list_template = "admin/consent/consentevent/change_list.html"
    show_full_result_count = False

    @admin.display(description=gettext_lazy("person"))
    def subject_display(self, obj):
        return obj.user.username if obj.user_id else obj.email

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # only erasure removes ledger rows

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        event = ConsentEvent.objects.filter(pk=object_id).first()
        if event is not None and response.status_code == 200:
            audit_record(
                action="consent_event_viewed",
                actor=request.user,
                subject=Subject(user_id=event.user_id, email=event.email),
                obj=event,
            )
        return response

    @admin.action(description=gettext_lazy("Export the selected entries as CSV"))
    def export_csv(self, request, queryset):
        rows = queryset.select_related("purpose", "partner", "policy_version").order_by("at", "id")
        count = rows.count()
        audit_record(
            action="consent_ledger_exported",
            actor=request.user,
            detail={"rows": count, "format": "csv"},
        )
        writer = csv.writer(_Echo())

        def lines():
            yield writer.writerow(CSV_COLUMNS)
            for e in rows.iterator(chunk_size=2000):
                yield writer.writerow(
                    [
                        e.pk,
                        e.at.isoformat(),
                        e.user_id or "",
                        e.email,
                        e.purpose.code,
                        e.partner.code if e.partner_id else "",
                        e.action,
                        e.method,
                        e.policy_version.version,
                        e.ip_hash,
                        e.recorded_by_id or "",
                        e.reason,
                    ]
                )

        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="consent-ledger-{stamp}.csv"'
        return response

    def get_urls(self):
        return [
            path(
                "record/",
                self.admin_site.admin_view(self.record_on_request_view),
                name="consent_consentevent_record",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_record": request.user.has_perm("consent.record_on_request"),
        }
        return super().changelist_view(request, extra_context)

    def record_on_request_view(self, request):
        if not request.user.has_perm("consent.record_on_request"):
            raise PermissionDenied
        form = RecordOnRequestForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.consent_record_on_request(
                    subject=data["subject"],
                    purpose=data["purpose"],
                    partner=data["partner"],
                    action=data["action"],
                    reason=data["reason"],
                    staff=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The change is recorded in the consent ledger."))
                return redirect(reverse("admin:consent_consentevent_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": _("Record a consent change on a written request"),
        }
        return TemplateResponse(request, "admin/consent/record_on_request.html", context)


@admin.register(FormSubmission)
class FormSubmissionAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "kind",
        "source",
        "marketing_purpose",
        "confirmed_at",
        "retain_until",
    )
    list_filter = ("kind", "marketing_purpose", ("created_at", admin.DateFieldListFilter))
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in FormSubmission._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        submission = FormSubmission.objects.filter(pk=object_id).first()
        if submission is not None and response.status_code == 200:
            audit_record(
                action="form_submission_viewed",
                actor=request.user,
                subject=Subject(user_id=submission.user_id, email=submission.email),
                obj=submission,
            )
        return response


@admin.register(PageViewCount)
class PageViewCountAdmin(admin.ModelAdmin):
    list_display = ("day", "route", "views", "visits")
    list_filter = (("day", admin.DateFieldListFilter),)
    search_fields = ("route",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
