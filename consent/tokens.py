"""Signed links: one-click unsubscribe, the preference-centre link, double opt-in confirmation.

Each kind has its own salt, so a token of one kind is worthless as another. Tokens are signed
with SECRET_KEY (django.core.signing): they cannot be guessed or altered, and they expire.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core import signing

from dsar.registry import Subject

from .app_settings import app_settings

UNSUBSCRIBE_SALT = "consent.unsubscribe.v1"
PREFERENCES_SALT = "consent.preferences-link.v1"
CONFIRMATION_SALT = "consent.double-opt-in.v1"


class TokenInvalid(Exception):
    """Altered, truncated or made up."""


class TokenExpired(TokenInvalid):
    """Genuine, but too old."""


def _load(token: str, *, salt: str, max_age: timedelta) -> dict:
    try:
        data = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise TokenExpired from None
    except (signing.BadSignature, ValueError, UnicodeDecodeError):
        raise TokenInvalid from None
    if not isinstance(data, dict):
        raise TokenInvalid
    return data


def _subject_payload(subject: Subject) -> dict:
    if subject.user_id is not None:
        return {"u": subject.user_id}
    return {"e": subject.email.lower()}


def _subject_from(data: dict) -> Subject:
    user_id, email = data.get("u"), data.get("e", "")
    if user_id is not None and not isinstance(user_id, int):
        raise TokenInvalid
    if not isinstance(email, str) or (user_id is None and not email):
        raise TokenInvalid
    return Subject(user_id=user_id) if user_id is not None else Subject(email=email)


@dataclass(frozen=True)
class UnsubscribeClaim:
    subject: Subject
    purpose: str
    partner_id: int | None
    campaign: str = ""

    @property
    def limit_key(self) -> str:
        """What the limiter counts posts of: the link (person, purpose, partner), not its
        campaign, so a link from another mailing of the same list counts as the same."""
        person = (
            f"u{self.subject.user_id}" if self.subject.user_id is not None else self.subject.email
        )
        return f"{person}|{self.purpose}|{self.partner_id or ''}"


def unsubscribe_token_make(
    *, subject: Subject, purpose: str, partner_id: int | None = None, campaign: str = ""
) -> str:
    payload = {**_subject_payload(subject), "p": purpose}
    if partner_id is not None:
        payload["n"] = partner_id
    if campaign:
        payload["c"] = campaign
    return signing.dumps(payload, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_token_read(token: str) -> UnsubscribeClaim:
    data = _load(token, salt=UNSUBSCRIBE_SALT, max_age=app_settings.UNSUBSCRIBE_TOKEN_MAX_AGE)
    purpose, partner_id, campaign = data.get("p"), data.get("n"), data.get("c", "")
    if not isinstance(purpose, str) or (partner_id is not None and not isinstance(partner_id, int)):
        raise TokenInvalid
    if not isinstance(campaign, str):
        raise TokenInvalid
    return UnsubscribeClaim(
        subject=_subject_from(data), purpose=purpose, partner_id=partner_id, campaign=campaign
    )


def preferences_token_make(*, email: str) -> str:
    return signing.dumps({"e": email.lower()}, salt=PREFERENCES_SALT, compress=True)


def preferences_token_read(token: str) -> Subject:
    data = _load(token, salt=PREFERENCES_SALT, max_age=app_settings.PREFERENCES_LINK_MAX_AGE)
    subject = _subject_from(data)
    if subject.user_id is not None:
        raise TokenInvalid
    return subject


def confirmation_token_make(*, submission_id: int) -> str:
    return signing.dumps({"s": submission_id}, salt=CONFIRMATION_SALT)


def confirmation_token_read(token: str) -> int:
    data = _load(token, salt=CONFIRMATION_SALT, max_age=app_settings.CONFIRMATION_MAX_AGE)
    submission_id = data.get("s")
    if not isinstance(submission_id, int):
        raise TokenInvalid
    return submission_id
