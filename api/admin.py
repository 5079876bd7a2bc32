"""API clients in the admin, for privacy officers (the model permissions, granted to that role
only by the migration). A token is shown once, on the page that answers its creation or
rotation, and never stored in a message or the session."""

from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from dsar.models import WebhookEndpoint

from . import services
from .models import ApiClient, ClientWebhookEndpoint, Scope


class ApiClientForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = ApiClient
        fields = ["name", "scopes", "rate_limit", "system", "is_active"]


def _tokens_page(request, admin_site, tokens: list[tuple[ApiClient, str]]):
    response = TemplateResponse(
        request,
        "admin/api/client_token.html",
        {**admin_site.each_context(request), "title": _("Client token"), "tokens": tokens},
    )
    response["Cache-Control"] = "no-store"
    return response


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    form = ApiClientForm
    list_display = [
        "name",
        "client_id",
        "scope_list",
        "rate_limit",
        "system",
        "is_active",
        "rotated_at",
    ]
    list_filter = ["is_active"]
    search_fields = ["name", "client_id"]
    readonly_fields = ["client_id", "created_at", "rotated_at", "previous_valid_until"]
    actions = ["rotate_secret"]

    @admin.display(description=_("scopes"))
    def scope_list(self, obj):
        return ", ".join(obj.scopes)

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: the audit log names the client

    def save_model(self, request, obj, form, change):
        if change:
            services.api_client_update(client=obj, actor=request.user)
            return
        created, token = services.api_client_create(
            name=obj.name,
            scopes=form.cleaned_data["scopes"],
            rate_limit=obj.rate_limit,
            system=obj.system,
            actor=request.user,
        )
        obj.pk, obj.client_id = created.pk, created.client_id
        request.api_client_token = token

    def response_add(self, request, obj, post_url_continue=None):
        token = getattr(request, "api_client_token", None)
        if token is None:
            return super().response_add(request, obj, post_url_continue)
        return _tokens_page(request, self.admin_site, [(obj, token)])

    @admin.action(
        description=_("Rotate the secret (the old one keeps working for 24 hours)"),
        permissions=["change"],
    )
    def rotate_secret(self, request, queryset):
        tokens = [
            (client, services.api_client_rotate(client=client, actor=request.user))
            for client in queryset
        ]
        return _tokens_page(request, self.admin_site, tokens)


@admin.display(description=_("made by the API client"))
def webhook_endpoint_owner(endpoint: WebhookEndpoint):
    """On a webhook endpoint's change page: the API client that subscribed it through the API,
    linked to the client's page (the client sees and changes only its own endpoints; an officer
    sees every endpoint), or that an officer made it here."""
    link = (
        ClientWebhookEndpoint.objects.filter(endpoint_id=endpoint.pk)
        .select_related("client")
        .first()
    )
    if link is None:
        return _("no API client: made in the admin")
    return format_html(
        '<a href="{}">{}</a>',
        reverse("admin:api_apiclient_change", args=[link.client_id]),
        link.client.name,
    )


# dsar's admin does not know the API; the owner is added to its endpoint page here, through the
# admin's own hook for read-only fields of the change page (as datastores adds its parts to the
# request page): a field, not an inline, so the add form and the change form post as before.
_endpoints_admin = admin.site.get_model_admin(WebhookEndpoint)
_endpoints_admin.change_readonly_fields = (
    *_endpoints_admin.change_readonly_fields,
    webhook_endpoint_owner,
)
