"""Field encryption (AES-256-GCM with a key ring) and blind indexes for searchable secrets.

`TOKEN_ENCRYPTION_KEYS` is `"kid:KEY,oldkid:OLDKEY"`, newest first; KEY is 32 random bytes in
base64. Ciphertexts look like `v1.<kid>.<base64url(nonce || ciphertext+tag)>`: the key id travels
with the value, so old values stay readable until `manage.py rotate_encryption_keys` re-encrypts
them under the newest key. The `context` (e.g. "whatsapp.AccessToken.token") is bound as
associated data, so a ciphertext copied into another field does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VERSION = "v1"
NONCE_BYTES = 12
_KID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class DecryptionError(ValueError):
    """A value could not be decrypted. Messages never include the value or a key."""


@dataclass(frozen=True)
class KeyRing:
    keys: tuple[tuple[str, bytes], ...]  # newest first

    @property
    def newest_id(self) -> str:
        return self.keys[0][0]

    def key(self, kid: str) -> bytes | None:
        return next((key for key_id, key in self.keys if key_id == kid), None)


def _decode_key(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    for decoder in (base64.urlsafe_b64decode, base64.b64decode):
        try:
            return decoder(padded)
        except (binascii.Error, ValueError):
            continue
    raise ValueError


def parse_key_ring(value: str, variable: str = "TOKEN_ENCRYPTION_KEYS") -> KeyRing:
    if not value or not value.strip():
        raise ImproperlyConfigured(f"{variable} is empty: it needs at least one 'id:base64key' entry.")
    keys: list[tuple[str, bytes]] = []
    for position, entry in enumerate(value.split(","), start=1):
        entry = entry.strip()
        if ":" not in entry:
            raise ImproperlyConfigured(f"{variable} entry {position} is not 'id:base64key'.")
        kid, encoded = (part.strip() for part in entry.split(":", 1))
        if not _KID_RE.match(kid):
            raise ImproperlyConfigured(f"{variable} entry {position}: key id must be 1-32 of A-Z a-z 0-9 _ -.")
        if any(kid == existing for existing, _ in keys):
            raise ImproperlyConfigured(f"{variable} has the key id '{kid}' twice.")
        try:
            key = _decode_key(encoded)
        except ValueError:
            raise ImproperlyConfigured(f"{variable} key '{kid}' is not valid base64.") from None
        if len(key) != 32:
            raise ImproperlyConfigured(f"{variable} key '{kid}' must be 32 bytes (got {len(key)}).")
        keys.append((kid, key))
    return KeyRing(tuple(keys))


@lru_cache(maxsize=8)
def _ring_for(value: str) -> KeyRing:
    return parse_key_ring(value)


def get_key_ring() -> KeyRing:
    return _ring_for(settings.TOKEN_ENCRYPTION_KEYS)


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encrypt(plaintext: str, *, context: str = "") -> str:
    ring = get_key_ring()
    kid, key = ring.keys[0]
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())
    return f"{VERSION}.{kid}.{_b64e(nonce + sealed)}"


def _split(token: str) -> tuple[str, bytes]:
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3 or parts[0] != VERSION:
        raise DecryptionError("not an Aerostic ciphertext (expected 'v1.<key id>.<data>').")
    try:
        blob = _b64d(parts[2])
    except (binascii.Error, ValueError):
        raise DecryptionError("ciphertext data is not valid base64.") from None
    if len(blob) <= NONCE_BYTES + 16:
        raise DecryptionError("ciphertext is too short.")
    return parts[1], blob


def key_id_of(token: str) -> str:
    return _split(token)[0]


def decrypt(token: str, *, context: str = "") -> str:
    kid, blob = _split(token)
    key = get_key_ring().key(kid)
    if key is None:
        raise DecryptionError(
            f"key id '{kid}' is not in TOKEN_ENCRYPTION_KEYS "
            "(was it removed before `manage.py rotate_encryption_keys` ran?)"
        )
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode()).decode()
    except InvalidTag:
        raise DecryptionError(
            "ciphertext failed authentication (tampered, or encrypted under a different key with the same id)"
        ) from None


def needs_rotation(token: str) -> bool:
    return key_id_of(token) != get_key_ring().newest_id


def reencrypt(token: str, *, context: str = "") -> str:
    return encrypt(decrypt(token, context=context), context=context)


def blind_index(value: str, *, purpose: str) -> str:
    """Deterministic keyed hash for lookups and uniqueness of an encrypted value.

    Callers normalise first (E.164 for phone numbers) so equal values hash equally; the purpose
    keeps indexes of different kinds from ever matching each other.
    """
    key = settings.BLIND_INDEX_KEY
    if not key:
        raise ImproperlyConfigured("BLIND_INDEX_KEY is empty.")
    return hmac.new(key.encode(), f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()
