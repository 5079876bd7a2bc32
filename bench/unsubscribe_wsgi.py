"""The physical limit of a one-click unsubscribe, the baseline of bench/unsubscribe_load.py: a
minimal WSGI app (no Django request handling, no ORM) doing the portal's durable work with plain
psycopg, served by the same gunicorn as the portal.

    POST /unsubscribe/<token>/              the token check, the limiter's Redis call, the ledger
    POST /no-limiter/unsubscribe/<token>/   the same without the limiter

Per request, as `consent.views.unsubscribe` and `consent.services.consent_unsubscribe` do it:
the signed token checked (`django.core.signing.loads` called directly with the key and salt of
consent/tokens.py: the same HMAC, decompression and age check; Django is not set up), the
limiter's moving-window hit for the link (the `limits` library, the key dsar/ratelimits.py
counts), then one transaction: lock the account row and read its address, the purpose's latest
purpose-wide ledger row for the person, the policy in force, the withdrawal's INSERT with the
same columns (the address HMAC included) when the purpose stands, and the commit. The purposes
(a few rows) are read once per process. The answer is the same one-line text. Campaign links
(a per-mailing counter) are left out: the benchmark's links carry no campaign.

Configured by the environment the benchmark gives gunicorn: DATABASE_URL, SECRET_KEY,
CELERY_BROKER_URL (the limiter's Redis, as the portal's loadtest settings use it),
BENCH_IP_HASH_KEY (hex), BENCH_TOKEN_MAX_AGE (seconds), BENCH_UNSUBSCRIBE_RATE ("amount/seconds").
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping

import psycopg
from django.core import signing
from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

SALT = "consent.unsubscribe.v1"  # consent/tokens.py
DONE = b"You are unsubscribed."
INVALID = b"This unsubscribe link is not valid."


class Unsubscribe:
    """The app; `statements` counts what it sent to PostgreSQL (BEGIN and COMMIT included)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.database_url = env["DATABASE_URL"]
        self.key = env["SECRET_KEY"]
        self.ip_hash_key = bytes.fromhex(env["BENCH_IP_HASH_KEY"])
        self.max_age = int(env["BENCH_TOKEN_MAX_AGE"])
        amount, seconds = env["BENCH_UNSUBSCRIBE_RATE"].split("/")
        self.rate = RateLimitItemPerSecond(int(amount), int(seconds))
        self.limiter = MovingWindowRateLimiter(storage_from_string(env["CELERY_BROKER_URL"]))
        self.db: psycopg.Connection | None = None
        self.purposes: dict[str, tuple[int, bool, bool]] = {}
        self.statements = 0

    def _connection(self) -> psycopg.Connection:
        """Opened at the worker's first request (after gunicorn's fork), kept."""
        if self.db is None or self.db.closed:
            self.db = psycopg.connect(self.database_url, autocommit=True)
            rows = self.db.execute(
                "SELECT code, id, is_essential, per_partner FROM consent_purpose"
            )
            self.purposes = {
                code: (pk, essential, partner) for code, pk, essential, partner in rows
            }
        return self.db

    def _one(self, sql: str, params=()) -> tuple | None:
        self.statements += 1
        return self.db.execute(sql, params).fetchone()

    def _withdraw(self, *, user_id: int, purpose: tuple, partner_id, ip: str) -> bool | None:
        """True if a withdrawal was written, False if nothing stood to withdraw, None if the
        account is gone (nothing written)."""
        purpose_id, _essential, per_partner = purpose
        self.statements += 2  # BEGIN, COMMIT (or ROLLBACK)
        with self.db.transaction():
            row = self._one("SELECT email FROM accounts_user WHERE id = %s FOR UPDATE", [user_id])
            if row is None:
                return None
            partner = " AND (partner_id = %s OR partner_id IS NULL)" if per_partner else ""
            latest = self._one(
                "SELECT action FROM consent_consentevent WHERE ((email = %s AND user_id IS NULL)"
                " OR user_id = %s) AND purpose_id = %s AND channel = ''"
                + partner
                + " ORDER BY at DESC, id DESC LIMIT 1",
                [row[0].lower(), user_id, purpose_id, *([partner_id] if per_partner else [])],
            )
            if latest is None or latest[0] != "granted":
                return False
            policy = self._one(
                "SELECT id FROM consent_policyversion WHERE effective_at <= now() "
                "AND published_at IS NOT NULL ORDER BY effective_at DESC, id DESC LIMIT 1"
            )
            ip_hash = hmac.new(self.ip_hash_key, ip.encode(), hashlib.sha256).hexdigest()
            self.statements += 1
            self.db.execute(
                "INSERT INTO consent_consentevent (user_id, email, purpose_id, partner_id, "
                "action, channel, method, policy_version_id, at, ip_hash, recorded_by_id, "
                "reason) VALUES (%s, '', %s, %s, 'withdrawn', '', 'unsubscribe_link', %s, "
                "now(), %s, NULL, '')",
                [user_id, purpose_id, partner_id, policy[0], ip_hash],
            )
        return True

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        limited = not path.startswith("/no-limiter/")
        path = path.removeprefix("/no-limiter")
        if environ["REQUEST_METHOD"] != "POST" or not path.startswith("/unsubscribe/"):
            return _answer(start_response, "404 Not Found", b"Not found.")
        try:
            data = signing.loads(
                path.removeprefix("/unsubscribe/").rstrip("/"),
                key=self.key,
                salt=SALT,
                max_age=self.max_age,
                fallback_keys=[],
            )
        except (signing.BadSignature, ValueError, UnicodeDecodeError):
            return _answer(start_response, "400 Bad Request", INVALID)
        user_id, code, partner_id = data.get("u"), data.get("p"), data.get("n")
        if not isinstance(user_id, int) or not isinstance(code, str):
            return _answer(start_response, "400 Bad Request", INVALID)
        self._connection()
        purpose = self.purposes.get(code)
        if purpose is None or purpose[1]:
            return _answer(start_response, "404 Not Found", INVALID)
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        key = f"u{user_id}|{code}|{partner_id or ''}"  # UnsubscribeClaim.limit_key
        if limited and not self.limiter.hit(self.rate, "unsubscribe", "key", key):
            return _answer(start_response, "429 Too Many Requests", b"Too many requests.")
        done = self._withdraw(
            user_id=user_id,
            purpose=purpose,
            partner_id=partner_id,
            ip=environ.get("REMOTE_ADDR", ""),
        )
        if done is None:
            return _answer(start_response, "404 Not Found", INVALID)
        return _answer(start_response, "200 OK", DONE)

    def close(self) -> None:
        if self.db is not None:
            self.db.close()


def _answer(start_response, status: str, body: bytes) -> list[bytes]:
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    start_response(status, headers)
    return [body]


_app: Unsubscribe | None = None


def application(environ, start_response):
    """gunicorn's entry point (`bench.unsubscribe_wsgi:application`)."""
    global _app
    if _app is None:
        _app = Unsubscribe(os.environ)
    return _app(environ, start_response)
