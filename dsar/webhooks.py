"""The mechanics of webhooks out: the endpoints' secrets (made, encrypted, read back), the guard
on their addresses, and one signed POST per try (Standard Webhooks). The rules (who gets what,
when, retries, the Art. 19 gate) live in dsar.services.webhooks; docs/webhooks.md tells a
receiving system how to verify what it gets."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests
from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.utils.translation import gettext as _
from standardwebhooks import Webhook

from .app_settings import app_settings

SECRET_PREFIX = "whsec_"


def secret_new() -> str:
    """A new signing secret in the Standard Webhooks form: whsec_ and 32 random bytes, base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _cipher() -> MultiFernet:
    keys = list(app_settings.WEBHOOK_SECRET_KEYS)
    if not keys:
        digest = hashlib.sha256(b"workpex-webhook-secret-key:" + settings.SECRET_KEY.encode())
        keys = [base64.urlsafe_b64encode(digest.digest()).decode()]
    return MultiFernet([Fernet(key.strip().encode()) for key in keys])


def secret_encrypt(secret: str) -> str:
    return _cipher().encrypt(secret.encode()).decode()


def secret_decrypt(ciphertext: str) -> str:
    """The endpoint's secret; raises cryptography's InvalidToken without the right key."""
    return _cipher().decrypt(ciphertext.encode()).decode()


# --- The address guard ---------------------------------------------------------------------------


def url_refusal(url: str) -> str:
    """Why webhooks may not be sent to `url`, in plain words ("" when they may): only http(s),
    and, unless WEBHOOK_ALLOW_PRIVATE_URLS, only public addresses, so an admin form cannot be
    used to reach the portal's own network (SSRF). Checked when the endpoint is saved and again
    before every try (the name may point elsewhere since)."""
    try:
        parts = urlsplit(url or "")
    except ValueError:  # e.g. an unclosed IPv6 bracket: not an address at all
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return _("Give an address that starts with https:// (or http://) and names a host.")
    if parts.username or parts.password:
        return _("Leave the user name and password out of the address.")
    if app_settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        return ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError):
        return _("The host %(host)s cannot be found.") % {"host": parts.hostname}
    for *_rest, sockaddr in found:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if not address.is_global:
            return _(
                "%(host)s is a private, loopback or reserved address: webhooks go only to "
                "public addresses."
            ) % {"host": parts.hostname}
    return ""


# --- One try ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    """What one POST got: the status code (None if there was no answer), what happened in plain
    words for the officer (empty on a 2xx), the technical cause, and how long it took."""

    status_code: int | None
    error: str
    detail: str
    duration_ms: int

    @property
    def acknowledged(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def payload_body(payload: dict) -> str:
    """The body exactly as signed and sent: compact JSON."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str)


def signed_headers(*, secret: str, message_id: str, body: str, now: datetime) -> dict[str, str]:
    """The Standard Webhooks headers; the timestamp is the try's own (receivers refuse old ones),
    the id is the event's (the same on every try and replay)."""
    timestamp = now.astimezone(UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, timestamp, body),
        "content-type": "application/json",
        "user-agent": "Workpex-Privacy-Portal-Webhooks/1",
    }


def send(*, url: str, secret: str, message_id: str, payload: dict) -> SendResult:
    """POST the signed payload once. A 2xx is the acknowledgement; anything else (another
    status, a redirect, no answer in time, a refused address) is a failure to try again."""
    started = time.monotonic()

    def result(status, error, detail=""):
        elapsed = int((time.monotonic() - started) * 1000)
        return SendResult(status, error, detail[:2000], elapsed)

    refusal = url_refusal(url)
    if refusal:
        return result(None, refusal)
    body = payload_body(payload)
    headers = signed_headers(secret=secret, message_id=message_id, body=body, now=datetime.now(UTC))
    try:
        response = requests.post(
            url,
            data=body.encode(),
            headers=headers,
            timeout=app_settings.WEBHOOK_TIMEOUT_SECONDS,
            allow_redirects=False,  # a redirect could lead past the address guard
        )
    except requests.Timeout as error:
        return result(
            None,
            _("The system did not answer within %(s)s seconds.")
            % {"s": app_settings.WEBHOOK_TIMEOUT_SECONDS},
            f"{type(error).__name__}: {error}",
        )
    except requests.RequestException as error:
        return result(
            None,
            _("The system could not be reached (it may be down, or the address is wrong)."),
            f"{type(error).__name__}: {error}",
        )
    status = response.status_code
    response.close()
    if 200 <= status < 300:
        return result(status, "")
    if 300 <= status < 400:
        error = _("The system answered with a redirect (%(code)s); webhooks do not follow them.")
    elif status >= 500:
        error = _("The system answered with an error of its own (%(code)s).")
    else:
        error = _("The system refused the delivery (%(code)s).")
    return result(status, error % {"code": status}, f"HTTP {status}")
