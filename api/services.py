"""API clients: creation, secret rotation, authentication of a call, and its audit row.

A token is `wpx_<client_id>_<secret>`, the secret 32 random bytes from `secrets`. Only the
SHA-256 of the secret is stored. A password hasher (PBKDF2, Argon2) is slow on purpose, to make
guessing a weak, human-chosen password expensive; here the secret has 256 bits of entropy, so
nobody can guess it or invert its hash however fast the hash is, and a slow hash would only
make every API call slow. A salt guards against precomputed tables of likely passwords, which
cannot exist for random secrets. The client id finds the row (one indexed query); the hash is
compared with `hmac.compare_digest`, in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from dsar.models import WebhookEndpoint
from dsar.registry import Subject
from dsar.services import audit_record, audit_record_views, webhook_endpoint_create

from .models import ApiClient, ClientWebhookEndpoint

TOKEN_PREFIX = "wpx_"
DEFAULT_OVERLAP = timedelta(hours=24)


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _token_new(client_id: str) -> tuple[str, str]:
    secret = secrets.token_urlsafe(32)
    return f"{TOKEN_PREFIX}{client_id}_{secret}", _secret_hash(secret)


@transaction.atomic
def api_client_create(
    *, name: str, scopes: list[str], rate_limit: str = "", system=None, actor=None
) -> tuple[ApiClient, str]:
    """A new client and its token, which is shown once and never again (only its hash is
    kept); `system`: the connected system it confirms for. Audited."""
    client_id = secrets.token_hex(8)
    token, secret_hash = _token_new(client_id)
    client = ApiClient(
        name=name.strip(),
        client_id=client_id,
        scopes=sorted(set(scopes)),
        secret_hash=secret_hash,
        system=system,
    )
    if rate_limit:
        client.rate_limit = rate_limit.strip()
    client.full_clean()
    client.save()
    audit_record(
        action="api_client_created",
        actor=actor,
        obj=client,
        detail={"client": client.client_id, "scopes": client.scopes, "system": client.system_id},
    )
    return client, token


@transaction.atomic
def api_client_rotate(
    *, client: ApiClient, actor=None, overlap: timedelta = DEFAULT_OVERLAP
) -> str:
    """A new token for the client; the one it replaces keeps working for `overlap`, so the
    calling system can switch without a gap (a zero overlap ends it at once). Audited."""
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    now = timezone.now()
    token, secret_hash = _token_new(client.client_id)
    client.previous_secret_hash = client.secret_hash
    client.previous_valid_until = now + max(overlap, timedelta(0))
    client.secret_hash = secret_hash
    client.rotated_at = now
    client.save(
        update_fields=["secret_hash", "previous_secret_hash", "previous_valid_until", "rotated_at"]
    )
    audit_record(
        action="api_client_rotated",
        actor=actor,
        obj=client,
        detail={
            "client": client.client_id,
            "previous_valid_until": client.previous_valid_until.isoformat(),
        },
    )
    return token


def api_client_authenticate(token: str) -> ApiClient | None:
    """The active client whose current (or still overlapping previous) secret this is; None
    for anything else. One query."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    client_id, _sep, secret = token[len(TOKEN_PREFIX) :].partition("_")
    if not client_id or not secret or len(client_id) > 32:
        return None
    client = ApiClient.objects.filter(client_id=client_id, is_active=True).first()
    if client is None:
        return None
    presented = _secret_hash(secret)
    if hmac.compare_digest(presented, client.secret_hash):
        return client
    if (
        client.previous_secret_hash
        and client.previous_valid_until is not None
        and client.previous_valid_until > timezone.now()
        and hmac.compare_digest(presented, client.previous_secret_hash)
    ):
        return client
    return None


@dataclass(frozen=True)
class ApiCall:
    """Who is calling, with which scope, for what operation."""

    client: ApiClient
    scope: str
    operation: str

    def detail(self, **extra) -> dict:
        return {"client": self.client.client_id, "scope": self.scope, **extra}


def api_call_audit(*, call: ApiCall, subject: Subject | None = None, obj=None, **detail) -> None:
    """One audit row for one call about one person (one INSERT). The client is named in the
    detail and as the object when the call is about no other row."""
    audit_record(
        action=f"api_{call.operation}",
        actor_kind="system",
        subject=subject,
        obj=obj if obj is not None else call.client,
        detail=call.detail(**detail),
    )


def api_call_audit_many(*, call: ApiCall, subjects: list[Subject], **detail) -> None:
    """One audit row per person a batch call asked about, in one INSERT."""
    audit_record_views(
        action=f"api_{call.operation}",
        actor=None,
        subjects=dict.fromkeys(subjects, ""),
        object_type=ApiClient._meta.label,
        object_id=str(call.client.pk),
        detail=call.detail(**detail),
    )


def api_call_refusal_audit(*, call: ApiCall, status: int) -> None:
    """A call with its scope that was refused (bad input, nobody there): written down with
    the status; the person is not named, as they may not exist."""
    audit_record(
        action="api_call_refused",
        actor_kind="system",
        obj=call.client,
        detail=call.detail(operation=call.operation, status=status),
    )


def api_call_refused_audit(*, client: ApiClient, scope: str, operation: str) -> None:
    """A call without the scope it needs: refused, and written down."""
    audit_record(
        action="api_scope_refused",
        actor_kind="system",
        obj=client,
        detail={"client": client.client_id, "scope": scope, "operation": operation},
    )


@transaction.atomic
def api_client_update(*, client: ApiClient, actor=None) -> ApiClient:
    """Save an officer's change of name, scopes, rate or active flag (the secret is changed
    only by rotation). Audited with the scopes and rate it leaves."""
    client.full_clean()
    client.save(update_fields=["name", "scopes", "rate_limit", "system", "is_active"])
    audit_record(
        action="api_client_changed",
        actor=actor,
        obj=client,
        detail={
            "client": client.client_id,
            "scopes": client.scopes,
            "rate_limit": client.rate_limit,
            "system": client.system_id,
            "active": client.is_active,
        },
    )
    return client


@transaction.atomic
def api_webhook_endpoint_create(
    *, client: ApiClient, url: str, events: list[str], description: str = "", active: bool = True
) -> tuple[WebhookEndpoint, str]:
    """Subscribe an endpoint for the client, through dsar's own service (the admin's path),
    owned by the client: it sees and changes only its own. Returns the endpoint and its secret,
    shown this once."""
    endpoint, secret = webhook_endpoint_create(
        url=url, events=events, description=description, active=active, actor=None
    )
    ClientWebhookEndpoint.objects.create(client=client, endpoint=endpoint)
    return endpoint, secret
