"""Connected systems in the admin: officers register a database (URL stored encrypted, shown
masked), test the connection, bring and edit its Fides dataset (every version kept), see each
system's part of a request on the request page, retry a failed part, confirm a part done by
hand (or a system's part its receiver cannot confirm), see which parts are overdue, and dry-run
a request (which systems, collections and rows) before anything changes."""

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from dsar.admin import ReadOnlyInline
from dsar.models import DataSubjectRequest
from dsar.services import audit_record
from dsar.services.erasure import erasure_subject
from dsar.staff import staff_can_work_requests

from . import services
from .fides import DatasetError
from .forms import ConfirmForm, ConnectedSystemForm
from .models import ConnectedSystem, DatasetVersion, SystemPart


def part_due(part: SystemPart):
    """When a part waiting for a confirmation is due, marked when it is overdue."""
    if part.due_at is None:
        return "—"
    when = date_format(timezone.localtime(part.due_at), "DATETIME_FORMAT")
    if part.overdue:
        return format_html('<strong class="errornote">{} ({})</strong>', when, _("overdue"))
    return when


class DatasetVersionInline(ReadOnlyInline):
    model = DatasetVersion
    fields = ("version", "fides_key", "created_at", "created_by")
    readonly_fields = fields
    verbose_name_plural = _("Dataset history")


@admin.register(ConnectedSystem)
class ConnectedSystemAdmin(admin.ModelAdmin):
    form = ConnectedSystemForm
    list_display = ("name", "kind", "url_masked", "active", "last_checked_at", "last_check")
    readonly_fields = ("url_masked", "last_checked_at", "last_check")
    fieldsets = (
        (None, {"fields": ("name", "kind", "active")}),
        (_("SQL database"), {"fields": ("url", "url_masked", "last_checked_at", "last_check")}),
        (_("Dataset"), {"fields": ("dataset_text", "dataset_file")}),
        (_("Done by hand"), {"fields": ("instructions", "team", "due_days")}),
        (
            _("Confirmed by the system through the API"),
            {
                "fields": ("endpoint",),
                "description": _(
                    "Each erasure is sent to this endpoint (the event erasure.part_due); the "
                    "system confirms its part through the API with the API client that names "
                    "this system. Days to do it (above) sets when the part is overdue."
                ),
            },
        ),
    )
    inlines = [DatasetVersionInline]
    actions = ["test_connection"]

    def has_delete_permission(self, request, obj=None):
        return False  # parts of requests point at the system: deactivate it instead

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        text = form.cleaned_data.get("dataset")
        if text:
            try:
                version = services.dataset_upload(system=obj, text=text, actor=request.user)
            except DatasetError as error:  # checked in the form; the database changed since
                self.message_user(request, str(error), messages.ERROR)
                return
            what = "; ".join(
                _("%(name)s: reads %(reads)s; erasure: %(erasure)s")
                % {
                    "name": t["name"],
                    "reads": ", ".join(t["reads"]) or "-",
                    "erasure": t["erasure"] or "-",
                }
                for t in services.dataset_touches(version=version)
            )
            self.message_user(
                request,
                _("Dataset version %(version)s in force. What it touches: %(what)s")
                % {"version": version.version, "what": what},
                messages.SUCCESS,
            )

    @admin.action(description=_("Test the connection"))
    def test_connection(self, request, queryset):
        for system in queryset.filter(kind=ConnectedSystem.Kind.SQL):
            ok, message = services.system_connection_test(system=system, actor=request.user)
            self.message_user(
                request, f"{system.name}: {message}", messages.SUCCESS if ok else messages.ERROR
            )


@admin.register(SystemPart)
class SystemPartAdmin(admin.ModelAdmin):
    list_display = ("request", "system", "kind", "state", "attempts", "due", "finished_at")
    list_filter = ("state", "kind", "system")
    fields = (
        "request",
        "system",
        "kind",
        "state",
        "done_collections",
        "counts",
        "attempts",
        "next_attempt_at",
        "last_error",
        "instructions",
        "team",
        "due",
        "confirmed_by",
        "confirmed_via",
        "confirmation",
        "finished_at",
    )
    readonly_fields = fields
    actions = ["retry", "confirm_done"]

    @admin.display(description=_("due"), ordering="due_at")
    def due(self, obj):
        return part_due(obj)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Retry the selected failed parts"))
    def retry(self, request, queryset):
        for part in queryset.filter(state=SystemPart.State.FAILED):
            services.system_part_retry(part=part, actor=request.user)

    @admin.action(description=_("Confirm done by hand"))
    def confirm_done(self, request, queryset):
        # Also a system's part its receiver cannot confirm (the team did it another way).
        queryset = queryset.filter(state__in=SystemPart.CONFIRMABLE)
        form = ConfirmForm(request.POST if "confirmation" in request.POST else None)
        if form.is_valid():
            for part in queryset:
                services.system_part_confirm(
                    part=part, actor=request.user, confirmation=form.cleaned_data["confirmation"]
                )
            self.message_user(request, _("Confirmed."), messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/reason_action.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Confirm done by hand"),
                "explanation": _(
                    "Say who did what in these systems for these requests. For an access "
                    "request, what you write here goes into the person's report."
                ),
                "opts": self.model._meta,
                "queryset": queryset,
                "form": form,
                "action": "confirm_done",
            },
        )


class SystemPartInline(ReadOnlyInline):
    """Each system's part on the request page: progress per system."""

    model = SystemPart
    fields = (
        "system",
        "kind",
        "state",
        "done_collections",
        "counts",
        "attempts",
        "last_error",
        "due",
        "confirmed_by",
        "confirmed_via",
    )
    readonly_fields = fields
    verbose_name_plural = _("Connected systems")

    @admin.display(description=_("due"))
    def due(self, obj):
        return part_due(obj)


@admin.action(description=_("Dry run in the connected systems"))
def dry_run(modeladmin, request, queryset):
    """Which systems, collections and rows each selected request would read or change."""
    if not staff_can_work_requests(request.user):
        modeladmin.message_user(
            request, _("Only staff who work requests may do this."), messages.ERROR
        )
        return None
    results = []
    for privacy_request in queryset:
        subject = erasure_subject(privacy_request)
        if subject is None:  # a closed request no longer says whom it is about
            results.append((privacy_request, []))
            continue
        phones = services.request_phones(privacy_request)
        results.append((privacy_request, services.dry_run(subjects=[subject], phones=phones)))
        audit_record(
            action="datastore_dry_run", actor=request.user, subject=subject, obj=privacy_request
        )
    return TemplateResponse(
        request,
        "admin/datastores/dry_run.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": _("Dry run in the connected systems"),
            "opts": modeladmin.model._meta,
            "results": results,
        },
    )


# The request page (dsar's admin) shows the systems' parts and offers the dry run; dsar does
# not know this app, so they are added to its admin here, through the admin site's public API.
_requests_admin = admin.site.get_model_admin(DataSubjectRequest)
_requests_admin.inlines = [*_requests_admin.inlines, SystemPartInline]
_requests_admin.actions = [*(_requests_admin.actions or []), dry_run]
