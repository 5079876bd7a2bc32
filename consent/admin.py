from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from modeltranslation.admin import TranslationAdmin

from dsar.admin import AuditedViewMixin
from dsar.registry import Subject
from dsar.services import audit_record
from dsar.spreadsheet import SpreadsheetWriter
from dsar.textinput import id_from_text

from . import policies, selectors, services
from .forms import PolicyVersionForm, ReasonForm, RecordOnRequestForm
from .models import (
    ConsentEvent,
    FormSubmission,
    PageViewCount,
    Partner,
    PolicyAcknowledgement,
    PolicyNotice,
    PolicyVersion,
    Purpose,
)


class LedgerReferencedAdminMixin:
    """Purposes and partners: the ledger and other code refer to them by `code`, so the code is
    fixed once made and nothing is deleted — switch one off with "active" instead."""

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Purpose)
class PurposeAdmin(LedgerReferencedAdminMixin, TranslationAdmin):
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


@admin.register(Partner)
class PartnerAdmin(LedgerReferencedAdminMixin, TranslationAdmin):
    list_display = ("name", "code", "website", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "code")


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    """Officers draft versions here and publish them with the button on the draft's page. A
    published version is read-only, with the progress of its notices."""

    form = PolicyVersionForm
    list_display = (
        "version",
        "effective_at",
        "status_display",
        "is_material",
        "notices_pending",
        "notices_sent",
        "notices_failed",
    )
    list_filter = ("is_material", ("published_at", admin.EmptyFieldListFilter))
    search_fields = ("version",)
    change_form_template = "admin/consent/policyversion/change_form.html"

    def get_queryset(self, request):
        # The progress columns, counted in the list's one query.
        def count(*states):
            return Count("notices", filter=Q(notices__state__in=states))

        return (
            super()
            .get_queryset(request)
            .annotate(
                n_pending=count("pending", "sending"),
                n_sent=count("sent"),
                n_failed=count("failed"),
            )
        )

    @admin.display(description=gettext_lazy("state"))
    def status_display(self, obj):
        if obj.published_at is None:
            return _("Draft")
        if obj.effective_at > timezone.now():
            return _("Published, upcoming")
        return _("Published")

    @admin.display(description=gettext_lazy("notices pending"))
    def notices_pending(self, obj):
        return obj.n_pending if obj.is_material else "—"

    @admin.display(description=gettext_lazy("notices sent"))
    def notices_sent(self, obj):
        return obj.n_sent if obj.is_material else "—"

    @admin.display(description=gettext_lazy("notices failed"))
    def notices_failed(self, obj):
        return obj.n_failed if obj.is_material else "—"

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.published_at is not None:
            return (
                "version",
                "effective_at",
                "is_material",
                "summary_of_changes",
                "text",
                "published_at",
                "notices_started_at",
            )
        return ("published_at", "notices_started_at")

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.published_at is not None:
            return False  # published versions never change: the page shows them read-only
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in PolicyVersionForm.Meta.fields}
        if change:
            saved = policies.policy_version_update(policy=obj, actor=request.user, **data)
        else:
            saved = policies.policy_version_draft(actor=request.user, **data)
        obj.pk = saved.pk

    def response_add(self, request, obj, post_url_continue=None):
        response = super().response_add(request, obj, post_url_continue)
        if "_addanother" in request.POST or IS_POPUP_VAR in request.POST:
            return response
        # The draft's page is where it is checked and published.
        return redirect(reverse("admin:consent_policyversion_change", args=[obj.pk]))

    def get_urls(self):
        return [
            path(
                "<int:object_id>/publish/",
                self.admin_site.admin_view(self.publish_view),
                name="consent_policyversion_publish",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        pk = id_from_text(object_id)
        policy = None if pk is None else PolicyVersion.objects.filter(pk=pk).first()
        extra = {**(extra_context or {})}
        if policy is not None:
            extra.update(
                {
                    "policy": policy,
                    "can_publish": policy.published_at is None
                    and request.user.has_perm("consent.publish_policyversion"),
                    "publish_errors": policies.policy_version_publish_errors(policy=policy)
                    if policy.published_at is None
                    else [],
                    "progress": policies.policy_notice_progress(version_ids=[policy.pk])[policy.pk]
                    if policy.is_material and policy.published_at
                    else None,
                    "failed_notices_url": reverse("admin:consent_policynotice_changelist")
                    + f"?version__id__exact={policy.pk}&state__exact=failed",
                }
            )
        return super().change_view(request, object_id, form_url, extra)

    def publish_view(self, request, object_id):
        if not request.user.has_perm("consent.publish_policyversion"):
            raise PermissionDenied
        if request.method != "POST":
            return redirect(reverse("admin:consent_policyversion_change", args=[object_id]))
        policy = PolicyVersion.objects.filter(pk=object_id).first()
        if policy is None:
            messages.error(request, _("That version does not exist."))
            return redirect(reverse("admin:consent_policyversion_changelist"))
        try:
            published = policies.policy_version_publish(policy=policy, actor=request.user)
        except ValidationError as error:
            for text in error.messages:
                messages.error(request, text)
        else:
            if published.is_material:
                messages.success(
                    request,
                    _(
                        "Version %(v)s is published. Notices are on their way to every account "
                        "holder; this page shows their progress."
                    )
                    % {"v": published.version},
                )
            else:
                messages.success(
                    request, _("Version %(v)s is published at /policy/.") % {"v": published.version}
                )
        return redirect(reverse("admin:consent_policyversion_change", args=[object_id]))


@admin.register(PolicyNotice)
class PolicyNoticeAdmin(admin.ModelAdmin):
    """The fan-out's rows, read-only: filter by version and state to see what failed and why, in
    plain words; officers who publish versions can send failed notices again, in bulk."""

    list_display = ("version", "user", "state", "attempts", "sent_at", "next_attempt_at", "status")
    list_filter = ("version", "state")
    list_select_related = ("version", "user")
    raw_id_fields = ("user",)
    fields = (
        "version",
        "user",
        "status",
        "state",
        "attempts",
        "first_tried_at",
        "next_attempt_at",
        "sent_at",
        "created_at",
    )
    readonly_fields = fields
    show_full_result_count = False
    actions = ["retry_failed"]

    @admin.display(description=gettext_lazy("status"))
    def status(self, obj):
        return selectors.policy_notice_status(obj)

    def has_retry_permission(self, request):
        return request.user.has_perm("consent.publish_policyversion")

    @admin.action(
        description=gettext_lazy("Send the selected failed notices again"),
        permissions=["retry"],
    )
    def retry_failed(self, request, queryset):
        retried = policies.policy_notices_retry(notices=queryset, actor=request.user)
        self.message_user(
            request,
            _(
                "%(count)s failed notice(s) are queued again and go out within minutes; the "
                "others were not failed and are left as they are."
            )
            % {"count": retried},
            messages.SUCCESS,
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PolicyAcknowledgement)
class PolicyAcknowledgementAdmin(admin.ModelAdmin):
    list_display = ("version", "user", "method", "at")
    list_filter = ("version", "method")
    list_select_related = ("version", "user")
    readonly_fields = ("version", "user", "method", "at")
    show_full_result_count = False

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
        if (user_id := id_from_text(value)) is not None:
            match |= Q(user_id=user_id)
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
    "channel",
]


@admin.register(ConsentEvent)
class ConsentEventAdmin(AuditedViewMixin, admin.ModelAdmin):
    """The ledger, read-only. Changes come from people themselves, or from an officer recording a
    person's written request (with the reason)."""

    list_display = (
        "at",
        "subject_display",
        "purpose",
        "partner",
        "action",
        "channel_display",
        "method",
        "policy_version",
    )
    list_filter = (
        SubjectFilter,
        "purpose",
        "partner",
        "action",
        "channel",
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

    @admin.display(description=gettext_lazy("channel"), ordering="channel")
    def channel_display(self, obj):
        return obj.get_channel_display() if obj.channel else gettext_lazy("every channel")

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

    audit_action = "consent_event_viewed"

    def audit_subject(self, obj):
        return Subject(user_id=obj.user_id, email=obj.email)

    @admin.action(description=gettext_lazy("Export the selected entries as CSV"))
    def export_csv(self, request, queryset):
        rows = queryset.select_related("purpose", "partner", "policy_version").order_by("at", "id")
        count = rows.count()
        audit_record(
            action="consent_ledger_exported",
            actor=request.user,
            detail={"rows": count, "format": "csv"},
        )
        writer = SpreadsheetWriter(_Echo())

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
                        e.channel or "all",
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
class FormSubmissionAdmin(AuditedViewMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "kind",
        "source",
        "marketing_purpose",
        "confirmed_at",
        "retain_until",
    )
    list_filter = (
        "kind",
        "marketing_purpose",
        "from_child",
        ("created_at", admin.DateFieldListFilter),
    )
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in FormSubmission._meta.fields]
    actions = ["flag_from_child"]

    @admin.action(
        description=gettext_lazy("Flag as sent by a child under 16 (the sender's data is removed)"),
        permissions=["flag_child"],
    )
    def flag_from_child(self, request, queryset):
        form = ReasonForm(request.POST if "reason" in request.POST else None)
        if form.is_valid():
            for submission in queryset:
                services.form_submission_flag_child(
                    submission=submission, actor=request.user, reason=form.cleaned_data["reason"]
                )
            messages.success(
                request,
                _(
                    "Flagged. The under-16 sweep removes everything held about the senders on "
                    "its next run."
                ),
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "queryset": queryset,
            "action": "flag_from_child",
            "title": _("Flag forms as sent by a child under 16"),
            "explanation": _(
                "Everything held about the senders of these forms (every form, consent and "
                "account under the same address) will be removed by the under-16 sweep."
            ),
        }
        return TemplateResponse(request, "admin/reason_action.html", context)

    def has_flag_child_permission(self, request):
        return request.user.has_perm("consent.flag_child_formsubmission")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    audit_action = "form_submission_viewed"

    def audit_subject(self, obj):
        return Subject(user_id=obj.user_id, email=obj.email)


@admin.register(PageViewCount)
class PageViewCountAdmin(admin.ModelAdmin):
    list_display = ("day", "route", "views", "visits")
    list_filter = (("day", admin.DateFieldListFilter),)
    search_fields = ("route",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
