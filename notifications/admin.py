"""Devices and the test-mode outbox, read-only, for privacy officers (the view permission is
theirs alone, given by this app's migration; Support staff do not see devices). The token itself
is never shown: its last characters tell devices apart."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from dsar.admin import AuditedViewMixin, ReadOnlyAdminMixin
from dsar.registry import Subject

from .models import Device, TestModePush


@admin.register(Device)
class DeviceAdmin(AuditedViewMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    audit_action = "staff_viewed_devices"
    list_display = ("user", "platform", "name", "token_end", "registered_at", "last_seen_at")
    list_filter = ("platform",)
    search_fields = ("user__username",)
    fields = ("user", "platform", "name", "token_end", "registered_at", "last_seen_at")
    readonly_fields = fields

    @admin.display(description=_("token (end)"))
    def token_end(self, obj):
        return obj.token_hint

    def audit_subject(self, obj):
        return Subject(user_id=obj.user_id)


@admin.register(TestModePush)
class TestModePushAdmin(AuditedViewMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    audit_action = "staff_viewed_devices"
    list_display = ("created_at", "user", "platform", "purpose", "title")
    list_filter = ("purpose", "platform")
    fields = ("created_at", "user", "platform", "purpose", "title", "body", "url")
    readonly_fields = fields

    def audit_subject(self, obj):
        return Subject(user_id=obj.user_id)
