"""TOTP authenticators for the demo staff and the tests, over allauth's public models and pyotp.

allauth's own TOTP helpers live in its `internal` package; the codes themselves are plain
RFC 6238 (SHA-1, allauth's period and digits), which pyotp computes.
"""

from __future__ import annotations

from datetime import datetime

import pyotp
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import encrypt

from .models import User


def totp_secret_new() -> str:
    return pyotp.random_base32()


def totp_authenticator_add(user: User, secret: str) -> Authenticator:
    """Set up TOTP for the user with the given base32 secret, stored encrypted as allauth does."""
    return Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": encrypt(secret)}
    )


def totp_code(secret: str, at: datetime | None = None) -> str:
    """The code an authenticator app shows for the secret now (or at `at`)."""
    totp = pyotp.TOTP(secret, digits=mfa_settings.TOTP_DIGITS, interval=mfa_settings.TOTP_PERIOD)
    return totp.at(at) if at else totp.now()
