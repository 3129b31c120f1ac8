"""AES-256-GCM with a key ring, and blind indexes."""

import base64
import os

import pytest
from django.core.exceptions import ImproperlyConfigured

from aerostic.core import crypto


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@pytest.fixture
def ring(settings):
    settings.TOKEN_ENCRYPTION_KEYS = f"k2:{_key()},k1:{_key()}"
    return settings


def test_round_trip(ring):
    assert crypto.decrypt(crypto.encrypt("EAAG-secret-token"), context="") == "EAAG-secret-token"


def test_ciphertext_names_the_newest_key_and_hides_the_plaintext(ring):
    token = crypto.encrypt("EAAG-secret-token")
    assert token.startswith("v1.k2.") and "secret" not in token


def test_each_encryption_uses_a_fresh_nonce(ring):
    assert crypto.encrypt("same") != crypto.encrypt("same")


def test_tampered_ciphertext_is_detected(ring):
    token = crypto.encrypt("EAAG-secret-token")
    prefix, data = token.rsplit(".", 1)
    flipped = data[:10] + ("A" if data[10] != "A" else "B") + data[11:]
    with pytest.raises(crypto.DecryptionError, match="failed authentication"):
        crypto.decrypt(f"{prefix}.{flipped}")


def test_ciphertext_moved_to_another_field_does_not_decrypt(ring):
    token = crypto.encrypt("EAAG", context="whatsapp.AccessToken.token")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, context="accounts.User.secret")


def test_key_missing_from_the_ring_gives_a_clear_error(ring, settings):
    token = crypto.encrypt("EAAG")
    settings.TOKEN_ENCRYPTION_KEYS = f"k3:{_key()}"
    with pytest.raises(crypto.DecryptionError, match="key id 'k2' is not in TOKEN_ENCRYPTION_KEYS"):
        crypto.decrypt(token)


def test_wrong_key_under_the_same_id_fails_authentication(ring, settings):
    token = crypto.encrypt("EAAG")
    settings.TOKEN_ENCRYPTION_KEYS = f"k2:{_key()}"
    with pytest.raises(crypto.DecryptionError, match="failed authentication"):
        crypto.decrypt(token)


def test_older_keys_still_decrypt_and_report_needing_rotation(settings):
    old = _key()
    settings.TOKEN_ENCRYPTION_KEYS = f"k1:{old}"
    token = crypto.encrypt("EAAG")
    settings.TOKEN_ENCRYPTION_KEYS = f"k2:{_key()},k1:{old}"
    assert crypto.decrypt(token) == "EAAG"
    assert crypto.needs_rotation(token)
    assert not crypto.needs_rotation(crypto.reencrypt(token))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "is empty"),
        ("no-colon", "not 'id:base64key'"),
        ("bad id!:" + "A" * 43, "key id must be"),
        ("k1:" + "A" * 43 + ",k1:" + "B" * 43, "twice"),
        ("k1:!!!notbase64!!!", "not valid base64"),
        ("k1:" + base64.b64encode(b"short").decode(), "must be 32 bytes"),
    ],
    ids=["empty", "no-colon", "bad-id", "duplicate-id", "not-base64", "wrong-length"],
)
def test_malformed_key_rings_are_refused_naming_the_variable(value, message):
    with pytest.raises(ImproperlyConfigured, match=message) as error:
        crypto.parse_key_ring(value)
    assert "TOKEN_ENCRYPTION_KEYS" in str(error.value)


def test_standard_base64_keys_are_accepted():
    ring = crypto.parse_key_ring("k1:" + base64.b64encode(os.urandom(32)).decode())
    assert ring.newest_id == "k1"


def test_garbage_is_not_a_ciphertext(ring):
    with pytest.raises(crypto.DecryptionError, match="not an Aerostic ciphertext"):
        crypto.decrypt("EAAG-plain")


def test_blind_index_is_deterministic_and_keyed_by_purpose_and_key(settings):
    settings.BLIND_INDEX_KEY = "one"
    first = crypto.blind_index("+919812345621", purpose="contact.phone")
    assert first == crypto.blind_index("+919812345621", purpose="contact.phone")
    assert first != crypto.blind_index("+919812345621", purpose="user.phone")
    settings.BLIND_INDEX_KEY = "two"
    assert first != crypto.blind_index("+919812345621", purpose="contact.phone")
    assert "9812345621" not in first
