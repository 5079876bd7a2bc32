from cryptography.fernet import Fernet
from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security)
def check_payment_token_keys(app_configs=None, **kwargs):
    """Stored payment tokens are encrypted: production must be given its keys."""
    keys = getattr(settings, "PAYMENT_TOKEN_KEYS", [])
    if not keys:
        return [
            checks.Error(
                "PAYMENT_TOKEN_KEYS is not set.",
                hint="Set PAYMENT_TOKEN_KEYS to one or more Fernet keys, comma-separated, newest "
                "first (python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())').",
                id="accounts.E001",
            )
        ]
    errors = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.strip().encode())
        except (ValueError, TypeError):
            errors.append(
                checks.Error(
                    f"Key number {position} in PAYMENT_TOKEN_KEYS is not a valid Fernet key.",
                    hint="A Fernet key is 32 bytes, URL-safe base64 encoded.",
                    id="accounts.E002",
                )
            )
    return errors
