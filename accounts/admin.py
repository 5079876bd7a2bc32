from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from dsar.admin import AuditedViewMixin
from dsar.registry import Subject

from . import testimonials
from .forms import TestimonialDraftForm
from .models import Testimonial, User


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
            obj.pk = saved.pk
            obj._state.adding = False

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
