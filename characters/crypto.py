"""Encryption at rest for SSO tokens: Fernet (AES-128-CBC + HMAC-SHA256) with key rotation.

Keys come from TOKEN_KEYS (comma-separated Fernet keys): the first encrypts, every one
decrypts, so a new key is put first, `manage.py rotate_token_keys` re-encrypts every stored
token with it, and the old key is then removed. When TOKEN_KEYS is empty (the embedded
default), one key is derived from SECRET_KEY; `check --deploy` warns about that.

    python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["InvalidToken", "decrypt", "encrypt", "rotate"]


def _derived_key(secret_key: str) -> bytes:
    digest = hashlib.sha256(b"evetrade token encryption\x00" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest)


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        return MultiFernet([Fernet(_derived_key(secret_key))])
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "TOKEN_KEYS must be Fernet keys (32 url-safe base64-encoded bytes each)"
        ) from exc


def _current() -> MultiFernet:
    keys = tuple(k.strip() for k in settings.TOKEN_KEYS if k.strip())
    return _fernet(keys, settings.SECRET_KEY)


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    """The plaintext; `InvalidToken` when no configured key opens it."""
    return _current().decrypt(ciphertext.encode()).decode()


def rotate(ciphertext: str) -> str:
    """The same plaintext encrypted with the first key (InvalidToken if no key opens it)."""
    return _current().rotate(ciphertext.encode()).decode()
