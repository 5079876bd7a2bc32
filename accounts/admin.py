from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from dsar.admin import AuditedViewMixin
from dsar.registry import Subject

from .models import User


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
