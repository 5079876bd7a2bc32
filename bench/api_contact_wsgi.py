"""The physical limit of the API's may-I-contact for one person, the baseline of
bench/api_contact_load.py: a minimal WSGI app (no Django request handling, no ORM, no pydantic)
doing the portal's durable work with plain psycopg, served by the same gunicorn as the portal.

    GET /api/v1/contact?purpose=<code>&user_id=<id>     the answer as JSON, as the portal's

Per request, as `api.auth.ClientToken`, `api.endpoints.contact_check` and
`consent.selectors.can_contact` do it: the bearer token's client read by its id (one SELECT) and
its secret's SHA-256 compared; the client's own rate counted under the limiter's key
(`limits`, moving window, the portal's Redis; one call); the scope checked; the person's address,
whether it is verified and whether a restriction or objection names the purpose's uses, in one
SELECT; the purpose's ledger rows for the person (purpose-wide and the channel's, newest
first), decided as the portal's `channel_decides` does; and the audit row of the call (one
INSERT, committed by itself). The purposes (a few rows) are read once per process, as the
unsubscribe baseline does.

Configured by the environment the benchmark gives gunicorn: DATABASE_URL, CELERY_BROKER_URL
(the limiter's Redis), BENCH_API_RATE ("amount/seconds", the client's rate).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from urllib.parse import parse_qs

import psycopg
from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from psycopg.types.json import Jsonb

PREFIX = "Bearer wpx_"
SCOPE = "consent:read"
CHANNEL_DEFAULT_ON = {"email": True, "push": False}  # consent/selectors.py


def _decides(rows, channel: str) -> tuple[str | None, bool]:
    """consent.selectors.channel_decides: (the purpose-wide action, whether `channel` is on)."""
    purpose_action = channel_action = None
    for row_channel, action in rows:
        if row_channel == "":
            if purpose_action is None:
                purpose_action = action
            if action == "withdrawn":
                break
        elif row_channel == channel and channel_action is None:
            channel_action = action
        if purpose_action is not None and channel_action is not None:
            break
    if channel_action is None:
        return purpose_action, CHANNEL_DEFAULT_ON[channel]
    return purpose_action, channel_action == "granted"


class Contact:
    """The app; `statements` counts what it sent to PostgreSQL."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.database_url = env["DATABASE_URL"]
        amount, seconds = env["BENCH_API_RATE"].split("/")
        self.rate = RateLimitItemPerSecond(int(amount), int(seconds))
        self.limiter = MovingWindowRateLimiter(storage_from_string(env["CELERY_BROKER_URL"]))
        self.db: psycopg.Connection | None = None
        self.purposes: dict[str, tuple] = {}
        self.statements = 0

    def _connection(self) -> psycopg.Connection:
        """Opened at the worker's first request (after gunicorn's fork), kept."""
        if self.db is None or self.db.closed:
            self.db = psycopg.connect(self.database_url, autocommit=True)
            rows = self.db.execute(
                "SELECT code, id, is_essential, is_direct_marketing, channel, is_active "
                "FROM consent_purpose"
            )
            self.purposes = {row[0]: row[1:] for row in rows}
        return self.db

    def _client(self, authorization: str):
        """(pk, client_id, scopes) of the token's active client, or None."""
        if not authorization.startswith(PREFIX):
            return None
        client_id, _sep, secret = authorization.removeprefix(PREFIX).partition("_")
        self.statements += 1
        row = self.db.execute(
            "SELECT id, scopes, secret_hash, previous_secret_hash, previous_valid_until > now() "
            "FROM api_apiclient WHERE client_id = %s AND is_active",
            [client_id],
        ).fetchone()
        if row is None:
            return None
        presented = hashlib.sha256(secret.encode()).hexdigest()
        if hmac.compare_digest(presented, row[2]) or (
            row[3] and row[4] and hmac.compare_digest(presented, row[3])
        ):
            return row[0], client_id, row[1]
        return None

    def _contactable(self, user_id: int, purpose: tuple, code: str, channel: str) -> bool | None:
        """The gate for one account holder; None if there is no such account."""
        purpose_id, essential, direct_marketing, _channel, active = purpose
        if essential:
            return True
        uses = [code, *(["direct_marketing"] if direct_marketing else [])]
        self.statements += 1
        row = self.db.execute(
            "SELECT u.email, EXISTS (SELECT 1 FROM account_emailaddress e WHERE e.user_id = u.id "
            "AND upper(e.email) = upper(u.email) AND e.verified), EXISTS (SELECT 1 FROM "
            "dsar_processingblock b WHERE (b.purpose = '' OR b.purpose = ANY(%s)) AND "
            "b.lifted_at IS NULL AND (b.user_id = u.id OR upper(b.email) = upper(u.email))) "
            "FROM accounts_user u WHERE u.id = %s",
            [uses, user_id],
        ).fetchone()
        if row is None:
            return None
        email, verified, blocked = row
        if not active or not verified or blocked:
            return False
        self.statements += 1
        rows = self.db.execute(
            "SELECT channel, action FROM consent_consentevent WHERE ((email = %s AND user_id IS "
            "NULL) OR user_id = %s) AND purpose_id = %s AND channel IN ('', %s) "
            "ORDER BY at DESC, id DESC",
            [email.lower(), user_id, purpose_id, channel],
        ).fetchall()
        action, on = _decides(rows, channel)
        return action == "granted" and on

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] != "GET" or environ.get("PATH_INFO") != "/api/v1/contact":
            return _answer(start_response, "404 Not Found", {"title": "Not found."})
        self._connection()
        client = self._client(environ.get("HTTP_AUTHORIZATION", ""))
        if client is None:
            return _answer(start_response, "401 Unauthorized", {"title": "Unauthorized."})
        pk, client_id, scopes = client
        if not self.limiter.hit(self.rate, "api_client", "key", client_id):
            return _answer(start_response, "429 Too Many Requests", {"title": "Slow down."})
        if SCOPE not in scopes:
            return _answer(start_response, "403 Forbidden", {"title": "Scope missing."})
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        code, channel = query.get("purpose", ""), query.get("channel", "email")
        purpose = self.purposes.get(code)
        if purpose is None or purpose[3] != "email" or channel not in CHANNEL_DEFAULT_ON:
            return _answer(start_response, "400 Bad Request", {"title": "Bad purpose."})
        try:
            user_id = int(query["user_id"])
        except (KeyError, ValueError):
            return _answer(start_response, "400 Bad Request", {"title": "Give user_id."})
        allowed = self._contactable(user_id, purpose, code, channel)
        if allowed is None:
            return _answer(start_response, "404 Not Found", {"title": "No such account."})
        self.statements += 1
        self.db.execute(
            "INSERT INTO dsar_auditevent (at, actor_id, actor_kind, action, subject_ref, "
            "object_type, object_id, reason, detail) VALUES (now(), NULL, 'system', "
            "'api_contact_checked', %s, 'api.ApiClient', %s, '', %s)",
            [
                f"user:{user_id}",
                str(pk),
                Jsonb({"client": client_id, "scope": SCOPE, "purpose": code, "channel": channel}),
            ],
        )
        answer = {"contactable": allowed, "purpose": code, "channel": channel, "partner": None}
        return _answer(start_response, "200 OK", answer)

    def close(self) -> None:
        if self.db is not None:
            self.db.close()


def _answer(start_response, status: str, data: dict) -> list[bytes]:
    body = json.dumps(data).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    start_response(status, headers)
    return [body]


_app: Contact | None = None


def application(environ, start_response):
    """gunicorn's entry point (`bench.api_contact_wsgi:application`)."""
    global _app
    if _app is None:
        _app = Contact(os.environ)
    return _app(environ, start_response)
