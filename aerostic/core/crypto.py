"""Field encryption (AES-256-GCM with a key ring) and blind indexes for searchable secrets.

`TOKEN_ENCRYPTION_KEYS` is `"kid:KEY,oldkid:OLDKEY"`, newest first; KEY is 32 random bytes in
base64 (URL-safe or standard, padding optional). Ciphertexts look like
`v1.<kid>.<base64url(nonce || ciphertext+tag)>`: the key id travels with the value, so old values
stay readable until `manage.py rotate_encryption_keys` re-encrypts them under the newest key.
The `context` (e.g. "whatsapp.AccessToken.token") is bound as AES-GCM associated data, so a
ciphertext copied into another field does not decrypt.

Nothing here ever puts a plaintext or a key into an exception message or a repr.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
KEYS_SETTING = "TOKEN_ENCRYPTION_KEYS"

_KID_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")
_VERSION_RE = re.compile(r"v[0-9]{1,3}")


class DecryptionError(ValueError):
    """A value could not be decrypted. Messages never include the value or a key."""


@dataclass(frozen=True)
class KeyRing:
    """Parsed `TOKEN_ENCRYPTION_KEYS`: (key id, 32-byte key) pairs, newest first."""

    # repr=False: a ring shown in a traceback or a debug page must not print key material.
    keys: tuple[tuple[str, bytes], ...] = field(repr=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("a key ring needs at least one key")

    def __repr__(self) -> str:
        return f"KeyRing(ids={list(self.ids)!r})"

    @property
    def newest_id(self) -> str:
        return self.keys[0][0]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(kid for kid, _ in self.keys)

    def key(self, kid: str) -> bytes | None:
        return next((key for key_id, key in self.keys if key_id == kid), None)


def _decode_key(text: str) -> bytes:
    """Strict base64: URL-safe or standard alphabet, padding optional; anything else is refused."""
    standard = text.rstrip("=").replace("-", "+").replace("_", "/")
    # validate=True: the lenient default silently drops stray characters, which would turn a
    # mangled key into a different (shorter) one instead of an error.
    return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)


def parse_key_ring(value: str, variable: str = KEYS_SETTING) -> KeyRing:
    """Parse `"kid:KEY,kid2:KEY2"` (newest first); any malformed entry raises ImproperlyConfigured.

    Messages name the variable and the entry (by position or key id) but never echo key material.
    """
    if not value or not value.strip():
        raise ImproperlyConfigured(
            f"{variable} is empty: it needs at least one 'id:base64key' entry, newest first "
            "(generate a key with: python -c \"import secrets; print('k1:' + secrets.token_urlsafe(32))\")."
        )
    keys: list[tuple[str, bytes]] = []
    for position, raw_entry in enumerate(value.split(","), start=1):
        entry = raw_entry.strip()
        if not entry:
            raise ImproperlyConfigured(f"{variable} entry {position} is empty (a stray comma?).")
        if ":" not in entry:
            raise ImproperlyConfigured(f"{variable} entry {position} is not in the form 'id:base64key'.")
        kid, encoded = (part.strip() for part in entry.split(":", 1))
        if not _KID_RE.fullmatch(kid):
            raise ImproperlyConfigured(
                f"{variable} entry {position}: the key id must be 1-32 characters of A-Z a-z 0-9 _ -."
            )
        if any(kid == existing for existing, _ in keys):
            raise ImproperlyConfigured(f"{variable} has the key id '{kid}' more than once.")
        try:
            key = _decode_key(encoded)
        except (binascii.Error, ValueError):
            raise ImproperlyConfigured(f"{variable} key '{kid}' is not valid base64.") from None
        if len(key) != KEY_BYTES:
            raise ImproperlyConfigured(
                f"{variable} key '{kid}' must be {KEY_BYTES} bytes once decoded (it is {len(key)})."
            )
        keys.append((kid, key))
    return KeyRing(tuple(keys))


@lru_cache(maxsize=8)
def _ring_for(value: str) -> KeyRing:
    return parse_key_ring(value)


def get_key_ring() -> KeyRing:
    """The ring for the current `settings.TOKEN_ENCRYPTION_KEYS`.

    Cached on the setting's string, so a test that overrides the setting gets the new ring at once.
    """
    return _ring_for(getattr(settings, KEYS_SETTING, ""))


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    return base64.b64decode(
        text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4),
        validate=True,
    )


def encrypt(plaintext: str, *, context: str = "") -> str:
    """Encrypt under the newest key: `v1.<kid>.<base64url(nonce || ciphertext+tag)>`."""
    if not isinstance(plaintext, str):
        raise TypeError(f"encrypt() takes a str, not {type(plaintext).__name__}")
    kid, key = get_key_ring().keys[0]
    # A random 96-bit nonce per value; with far fewer than 2**32 encryptions per key the
    # collision risk is negligible, and rotation retires keys long before that.
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
    return f"{VERSION}.{kid}.{_b64e(nonce + sealed)}"


def _split(token: str) -> tuple[str, bytes]:
    """Check the envelope and return (key id, nonce || ciphertext+tag)."""
    if not isinstance(token, str):
        raise DecryptionError(f"expected a ciphertext string, got {type(token).__name__}.")
    parts = token.split(".")
    # Only echo a part back when it has the shape of a version or key id: a plaintext passed here
    # by mistake must not end up in the message.
    if len(parts) == 3 and parts[0] != VERSION and _VERSION_RE.fullmatch(parts[0]):
        raise DecryptionError(f"unsupported ciphertext version '{parts[0]}' (this build reads {VERSION}).")
    if len(parts) != 3 or parts[0] != VERSION or not _KID_RE.fullmatch(parts[1]):
        raise DecryptionError(f"not an Aerostic ciphertext (expected '{VERSION}.<key id>.<data>').")
    try:
        blob = _b64d(parts[2])
    except (binascii.Error, ValueError):
        raise DecryptionError("ciphertext data is not valid base64url.") from None
    if len(blob) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("ciphertext is too short to hold a nonce and a tag.")
    return parts[1], blob


def is_ciphertext(value: object) -> bool:
    """True when `value` has the shape of our ciphertext (says nothing about whether it decrypts)."""
    try:
        _split(value)  # type: ignore[arg-type]
    except DecryptionError:
        return False
    return True


def key_id_of(token: str) -> str:
    """The id of the key a ciphertext was made with (DecryptionError when it is not one of ours)."""
    return _split(token)[0]


def decrypt(token: str, *, context: str = "") -> str:
    kid, blob = _split(token)
    key = get_key_ring().key(kid)
    if key is None:
        raise DecryptionError(
            f"key id '{kid}' is not in {KEYS_SETTING} (was it removed before `manage.py rotate_encryption_keys` ran?)"
        )
    try:
        plaintext = AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode("utf-8"))
    except InvalidTag:
        raise DecryptionError(
            "ciphertext failed authentication (tampered, or encrypted under a different key with the same id)"
        ) from None
    return plaintext.decode("utf-8")


def needs_rotation(token: str) -> bool:
    """True when the ciphertext was not made with the newest key of the ring."""
    return key_id_of(token) != get_key_ring().newest_id


def reencrypt(token: str, *, context: str = "") -> str:
    """Decrypt with whichever ring key made it and encrypt again under the newest (fresh nonce)."""
    return encrypt(decrypt(token, context=context), context=context)


def blind_index(value: str, *, purpose: str, tenant: int) -> str:
    """Deterministic keyed hash (HMAC-SHA256, hex) for lookups and uniqueness of an encrypted value,
    private to one workspace.

    Callers normalise the value first (E.164 for phone numbers, lower-case for e-mail addresses):
    only equal strings hash equally. The key is a subkey per (purpose, workspace), itself an HMAC of
    `"<purpose>\\0<tenant id>"` under `settings.BLIND_INDEX_KEY`: indexes of different kinds never
    match, and one person's index differs from workspace to workspace, so nobody reading the
    database can link a person across tenants. Changing BLIND_INDEX_KEY changes every index, so it
    is not rotated like the encryption keys.
    """
    if not isinstance(value, str):
        raise TypeError(f"blind_index() takes a str, not {type(value).__name__}")
    if not purpose or "\x00" in purpose:
        # The NUL separates purpose from tenant; a NUL inside the purpose would blur that line.
        raise ValueError("blind_index() needs a purpose without NUL characters.")
    if not isinstance(tenant, int) or isinstance(tenant, bool) or tenant <= 0:
        raise TypeError("blind_index() needs tenant=<the workspace id>: indexes are private to a workspace.")
    key = getattr(settings, "BLIND_INDEX_KEY", "")
    if not key:
        raise ImproperlyConfigured("BLIND_INDEX_KEY is empty: blind indexes need a secret key.")
    return hmac.new(_subkey(key, purpose, tenant), value.encode("utf-8"), hashlib.sha256).hexdigest()


@lru_cache(maxsize=4096)
def _subkey(key: str, purpose: str, tenant: int) -> bytes:
    # Cached: webhook processing and imports compute thousands of indexes for a few workspaces.
    return hmac.new(key.encode("utf-8"), f"{purpose}\x00{tenant}".encode(), hashlib.sha256).digest()
