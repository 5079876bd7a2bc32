"""What the API app holds about people: nothing (clients are systems; who created or rotated
one, and every call, is in the audit log)."""

from dsar.registry import no_personal_data

from .models import ApiClient, ClientWebhookEndpoint

no_personal_data(
    ApiClient,
    reason="A calling system: its name, scopes, rate and hashed secrets; no person's data.",
)
no_personal_data(
    ClientWebhookEndpoint,
    reason="Which calling system subscribed which webhook endpoint; no person's data.",
)
