"""Connection URLs are stored encrypted (MultiFernet, keys from DATASTORES_CREDENTIAL_KEYS)."""

from cryptography.fernet import Fernet, MultiFernet

from .app_settings import credential_keys


def _cipher() -> MultiFernet:
    return MultiFernet([Fernet(key.strip().encode()) for key in credential_keys()])


def secret_encrypt(text: str) -> str:
    return _cipher().encrypt(text.encode()).decode()


def secret_decrypt(ciphertext: str) -> str:
    """The stored text; raises cryptography's InvalidToken without the right key."""
    return _cipher().decrypt(ciphertext.encode()).decode()
