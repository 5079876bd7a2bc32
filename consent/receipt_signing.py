"""The key that signs consent receipts (JWS, RFC 7515) and the public key set that verifies them.

A receipt is signed with ES256 (ECDSA P-256); its header names the key (`kid`, the key's
RFC 7638 thumbprint). The public half is published at `/.well-known/jwks.json`, so a person or
a regulator can check a receipt offline with any JOSE library.

The private key comes from `CONSENT_RECEIPT_SIGNING_KEY` (a PEM, newlines may be written as
`\\n` in the environment); production refuses to start without one (consent.E005). The embedded
default derives a P-256 key from SECRET_KEY, so the web server and the workers share it with no
file to keep; changing SECRET_KEY then changes the key, and receipts signed before can be checked
only with the old public key (keep it: `CONSENT_RECEIPT_RETIRED_PUBLIC_KEYS`).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.utils.crypto import salted_hmac
from joserfc import jws
from joserfc.jwk import ECKey

from .app_settings import app_settings

ALGORITHM = "ES256"
# The order of the P-256 group: a derived private scalar must lie in [1, n - 1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _pem(value: str) -> bytes:
    return value.replace("\\n", "\n").strip().encode()


def _derived_pem() -> bytes:
    digest = salted_hmac("consent.receipt-signing-key", "receipts", algorithm="sha512").digest()
    scalar = int.from_bytes(hashlib.sha512(digest).digest(), "big") % (_P256_ORDER - 1) + 1
    private = ec.derive_private_key(scalar, ec.SECP256R1())
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@lru_cache(maxsize=4)
def _key(pem: bytes) -> ECKey:
    key = ECKey.import_key(pem)
    if key.as_dict(private=False).get("crv") != "P-256":
        raise ValueError("CONSENT_RECEIPT_SIGNING_KEY must be an EC key on the P-256 curve.")
    return ECKey.import_key(
        pem, parameters={"kid": key.thumbprint(), "use": "sig", "alg": ALGORITHM}
    )


def receipt_signing_key() -> ECKey:
    configured = app_settings.RECEIPT_SIGNING_KEY
    return _key(_pem(configured) if configured else _derived_pem())


def receipt_jwks() -> dict:
    """The public keys that verify receipts: the one in use, then any retired ones."""
    keys = [receipt_signing_key().as_dict(private=False)]
    for pem in app_settings.RECEIPT_RETIRED_PUBLIC_KEYS:
        retired = ECKey.import_key(_pem(pem))
        keys.append(
            ECKey.import_key(
                _pem(pem), parameters={"kid": retired.thumbprint(), "use": "sig", "alg": ALGORITHM}
            ).as_dict(private=False)
        )
    return {"keys": keys}


def receipt_sign(receipt: dict) -> str:
    """The receipt as a compact JWS whose payload is the receipt's JSON (UTF-8)."""
    key = receipt_signing_key()
    payload = json.dumps(receipt, ensure_ascii=False, separators=(",", ":")).encode()
    header = {"alg": ALGORITHM, "kid": key.kid, "typ": "JWT"}
    return jws.serialize_compact(header, payload, key, algorithms=[ALGORITHM])
