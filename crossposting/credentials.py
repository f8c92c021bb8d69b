"""Network credentials at rest: AES-256-GCM, bound to the account's institution and row.

The associated data ``institution:<id>:account:<id>`` makes a ciphertext copied to another row or
institution fail to decrypt. Keys come from ``PODIUM_CREDENTIALS_KEYS`` (the first encrypts, all
decrypt); outside production a key is derived from ``SECRET_KEY``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VERSION = b"\x01"
NONCE_BYTES = 12


class CredentialsUnreadable(Exception):
    """No configured key opens the stored credentials (wrong key, or copied to another row)."""


def _keys() -> list[bytes]:
    configured = list(settings.PODIUM_CREDENTIALS_KEYS)
    if not configured:
        return [hashlib.sha256(b"podium-credentials:" + settings.SECRET_KEY.encode()).digest()]
    keys = []
    for text in configured:
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        if len(key) != 32:
            raise ImproperlyConfigured("Each PODIUM_CREDENTIALS_KEYS entry must be 32 bytes")
        keys.append(key)
    return keys


def _associated_data(institution_id: int, account_id: int, table: str = "account") -> bytes:
    return f"institution:{institution_id}:{table}:{account_id}".encode()


def seal(
    institution_id: int, account_id: int, credentials: dict, *, table: str = "account"
) -> bytes:
    """Encrypt credentials for one account row (or one row of another ``table`` of secrets, such
    as ``mastodon_app``) with the first key."""
    nonce = os.urandom(NONCE_BYTES)
    plain = json.dumps(credentials, sort_keys=True).encode()
    data = _associated_data(institution_id, account_id, table)
    sealed = AESGCM(_keys()[0]).encrypt(nonce, plain, data)
    return VERSION + nonce + sealed


def unseal(institution_id: int, account_id: int, blob: bytes, *, table: str = "account") -> dict:
    """Decrypt an account's credentials with whichever configured key opens them."""
    blob = bytes(blob or b"")
    if not blob:
        return {}
    if blob[:1] != VERSION:
        raise CredentialsUnreadable("unknown credentials format")
    nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    for key in _keys():
        try:
            plain = AESGCM(key).decrypt(
                nonce, sealed, _associated_data(institution_id, account_id, table)
            )
        except InvalidTag:
            continue
        return json.loads(plain)
    raise CredentialsUnreadable("no configured key opens these credentials")


def is_sealed_with_first_key(
    institution_id: int, account_id: int, blob: bytes, *, table: str = "account"
) -> bool:
    """Whether the stored credentials already open with the key that encrypts (no rotation due)."""
    blob = bytes(blob or b"")
    if not blob:
        return True
    nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        AESGCM(_keys()[0]).decrypt(
            nonce, sealed, _associated_data(institution_id, account_id, table)
        )
    except InvalidTag:
        return False
    return True
