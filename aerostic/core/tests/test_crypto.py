"""aerostic.core.crypto: AES-256-GCM with a key ring, key-ring parsing, and blind indexes."""

import base64
import secrets

import pytest
from django.core.exceptions import ImproperlyConfigured

from aerostic.core import crypto

PLAIN = "EAAG-very-secret-system-user-token"


def _key() -> str:
    # The form development generates (see aerostic.core.config.development_secrets).
    return secrets.token_urlsafe(32)


def _flip_byte(token: str, position: int) -> str:
    prefix, data = token.rsplit(".", 1)
    blob = bytearray(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
    blob[position] ^= 0x01
    return f"{prefix}.{base64.urlsafe_b64encode(bytes(blob)).rstrip(b'=').decode()}"


@pytest.fixture
def ring(settings):
    settings.TOKEN_ENCRYPTION_KEYS = f"k2:{_key()},k1:{_key()}"
    return settings


def test_encrypted_value_decrypts_to_the_original(ring):
    token = crypto.encrypt(PLAIN, context="whatsapp.AccessToken.token")

    assert crypto.decrypt(token, context="whatsapp.AccessToken.token") == PLAIN


def test_non_ascii_text_round_trips(ring):
    assert crypto.decrypt(crypto.encrypt("नमस्ते ✓")) == "नमस्ते ✓"


def test_ciphertext_names_the_newest_key_and_hides_the_plaintext(ring):
    token = crypto.encrypt(PLAIN)

    assert token.startswith("v1.k2.")
    assert crypto.key_id_of(token) == "k2"
    assert "secret" not in token


def test_each_encryption_uses_a_fresh_nonce(ring):
    first, second = crypto.encrypt(PLAIN), crypto.encrypt(PLAIN)

    assert first != second
    assert first.split(".")[2][:16] != second.split(".")[2][:16]  # the nonce leads the data


@pytest.mark.parametrize("position", [0, 20, -1], ids=["nonce", "ciphertext", "tag"])
def test_a_flipped_byte_is_detected(ring, position):
    tampered = _flip_byte(crypto.encrypt(PLAIN), position)

    with pytest.raises(crypto.DecryptionError, match="failed authentication"):
        crypto.decrypt(tampered)


def test_ciphertext_moved_to_another_field_does_not_decrypt(ring):
    token = crypto.encrypt(PLAIN, context="whatsapp.AccessToken.token")

    with pytest.raises(crypto.DecryptionError, match="failed authentication"):
        crypto.decrypt(token, context="billing.Account.api_key")


def test_a_key_id_missing_from_the_ring_gives_a_clear_error(settings):
    settings.TOKEN_ENCRYPTION_KEYS = f"k0:{_key()}"
    token = crypto.encrypt(PLAIN)
    settings.TOKEN_ENCRYPTION_KEYS = f"k1:{_key()}"

    with pytest.raises(crypto.DecryptionError) as error:
        crypto.decrypt(token)

    assert str(error.value) == (
        "key id 'k0' is not in TOKEN_ENCRYPTION_KEYS (was it removed before `manage.py rotate_encryption_keys` ran?)"
    )


def test_a_different_key_under_the_same_id_fails_authentication(settings):
    settings.TOKEN_ENCRYPTION_KEYS = f"k1:{_key()}"
    token = crypto.encrypt(PLAIN)
    settings.TOKEN_ENCRYPTION_KEYS = f"k1:{_key()}"

    with pytest.raises(crypto.DecryptionError) as error:
        crypto.decrypt(token)

    assert str(error.value) == (
        "ciphertext failed authentication (tampered, or encrypted under a different key with the same id)"
    )


def test_an_older_key_still_decrypts(settings):
    old = _key()
    settings.TOKEN_ENCRYPTION_KEYS = f"k1:{old}"
    token = crypto.encrypt(PLAIN)
    settings.TOKEN_ENCRYPTION_KEYS = f"k2:{_key()},k1:{old}"

    assert crypto.decrypt(token) == PLAIN


def test_only_values_under_an_older_key_need_rotation(settings):
    old = _key()
    settings.TOKEN_ENCRYPTION_KEYS = f"k1:{old}"
    token = crypto.encrypt(PLAIN)
    settings.TOKEN_ENCRYPTION_KEYS = f"k2:{_key()},k1:{old}"

    assert crypto.needs_rotation(token)
    assert not crypto.needs_rotation(crypto.encrypt(PLAIN))


def test_reencrypt_moves_a_value_to_the_newest_key(settings):
    old = _key()
    settings.TOKEN_ENCRYPTION_KEYS = f"k1:{old}"
    token = crypto.encrypt(PLAIN, context="c")
    settings.TOKEN_ENCRYPTION_KEYS = f"k2:{_key()},k1:{old}"

    fresh = crypto.reencrypt(token, context="c")

    assert crypto.key_id_of(fresh) == "k2"
    assert crypto.decrypt(fresh, context="c") == PLAIN


def test_the_ring_follows_a_settings_override(settings):
    settings.TOKEN_ENCRYPTION_KEYS = f"first:{_key()}"
    assert crypto.get_key_ring().newest_id == "first"

    settings.TOKEN_ENCRYPTION_KEYS = f"second:{_key()}"

    assert crypto.get_key_ring().newest_id == "second"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("k1:" + "A" * 43 + ",", "entry 2 is empty"),
        ("no-colon-here", "entry 1 is not in the form 'id:base64key'"),
        (":" + "A" * 43, "key id must be 1-32 characters"),
        ("bad id!:" + "A" * 43, "key id must be 1-32 characters"),
        ("k" * 33 + ":" + "A" * 43, "key id must be 1-32 characters"),
        ("k1:" + "A" * 43 + ",k1:" + "B" * 43, "key id 'k1' more than once"),
        ("k1:!!!notbase64!!!", "key 'k1' is not valid base64"),
        ("k1:" + "A" * 42 + "$", "key 'k1' is not valid base64"),
        ("k1:", "key 'k1' must be 32 bytes once decoded \\(it is 0\\)"),
        ("k1:" + base64.b64encode(b"short").decode(), "key 'k1' must be 32 bytes once decoded \\(it is 5\\)"),
        ("k1:" + base64.b64encode(bytes(33)).decode(), "key 'k1' must be 32 bytes once decoded \\(it is 33\\)"),
    ],
    ids=[
        "empty",
        "blank",
        "trailing-comma",
        "no-colon",
        "empty-id",
        "id-with-bad-characters",
        "id-too-long",
        "duplicate-id",
        "not-base64",
        "stray-character",
        "empty-key",
        "key-too-short",
        "key-too-long",
    ],
)
def test_a_malformed_key_ring_is_refused_naming_the_variable(value, message):
    with pytest.raises(ImproperlyConfigured, match=message) as error:
        crypto.parse_key_ring(value)

    assert str(error.value).startswith("TOKEN_ENCRYPTION_KEYS ")


def test_key_ring_errors_name_the_variable_they_were_given():
    with pytest.raises(ImproperlyConfigured, match="^OTHER_KEYS is empty"):
        crypto.parse_key_ring("", "OTHER_KEYS")


def test_key_ring_errors_never_echo_key_material():
    key_material = "A" * 40 + "xyz"

    with pytest.raises(ImproperlyConfigured) as error:
        crypto.parse_key_ring(key_material)

    assert key_material not in str(error.value)


@pytest.mark.parametrize(
    "encoded",
    [
        base64.urlsafe_b64encode(b"\xfb" * 32).decode(),
        base64.urlsafe_b64encode(b"\xfb" * 32).decode().rstrip("="),
        base64.b64encode(b"\xfb" * 32).decode(),
        base64.b64encode(b"\xfb" * 32).decode().rstrip("="),
    ],
    ids=["urlsafe-padded", "urlsafe-unpadded", "standard-padded", "standard-unpadded"],
)
def test_both_base64_alphabets_are_accepted_with_or_without_padding(encoded):
    ring = crypto.parse_key_ring(f" new:{encoded} , old:{_key()} ")

    assert ring.ids == ("new", "old")
    assert ring.key("new") == b"\xfb" * 32


def test_key_ring_repr_shows_ids_but_no_key_material():
    key = _key()

    ring = crypto.parse_key_ring(f"k1:{key}")

    assert repr(ring) == "KeyRing(ids=['k1'])"
    assert key not in repr(ring)


def test_a_plaintext_is_not_mistaken_for_a_ciphertext(ring):
    with pytest.raises(crypto.DecryptionError, match="not an Aerostic ciphertext") as error:
        crypto.decrypt(PLAIN)

    assert PLAIN not in str(error.value)


def test_an_unknown_ciphertext_version_is_named(ring):
    with pytest.raises(crypto.DecryptionError, match="unsupported ciphertext version 'v2'"):
        crypto.decrypt("v2.k1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")


def test_a_truncated_ciphertext_is_refused(ring):
    with pytest.raises(crypto.DecryptionError, match="too short"):
        crypto.decrypt(crypto.encrypt(PLAIN)[:20])


def test_blind_index_is_deterministic(settings):
    settings.BLIND_INDEX_KEY = "index-key-one"

    first = crypto.blind_index("+919812345621", purpose="contacts.Contact.phone", tenant=1)

    assert first == crypto.blind_index("+919812345621", purpose="contacts.Contact.phone", tenant=1)
    assert len(first) == 64
    assert "9812345621" not in first


def test_blind_index_differs_by_purpose(settings):
    settings.BLIND_INDEX_KEY = "index-key-one"

    contact = crypto.blind_index("+919812345621", purpose="contacts.Contact.phone", tenant=1)

    assert contact != crypto.blind_index("+919812345621", purpose="accounts.User.phone", tenant=1)


def test_blind_index_differs_by_key(settings):
    settings.BLIND_INDEX_KEY = "index-key-one"
    first = crypto.blind_index("+919812345621", purpose="contacts.Contact.phone", tenant=1)

    settings.BLIND_INDEX_KEY = "index-key-two"

    assert first != crypto.blind_index("+919812345621", purpose="contacts.Contact.phone", tenant=1)


def test_blind_index_refuses_an_empty_key(settings):
    settings.BLIND_INDEX_KEY = ""

    with pytest.raises(ImproperlyConfigured, match="BLIND_INDEX_KEY"):
        crypto.blind_index("+919812345621", purpose="contacts.Contact.phone", tenant=1)


def test_blind_index_of_one_number_differs_between_workspaces(settings):
    settings.BLIND_INDEX_KEY = "index-key-one"

    alpha = crypto.blind_index("+919812345621", purpose="contacts.Contact.phone", tenant=1)
    bravo = crypto.blind_index("+919812345621", purpose="contacts.Contact.phone", tenant=2)

    assert alpha != bravo
    assert alpha == crypto.blind_index("+919812345621", purpose="contacts.Contact.phone", tenant=1)


@pytest.mark.parametrize("tenant", [None, 0, True, "1"], ids=["none", "zero", "bool", "text"])
def test_blind_index_refuses_anything_but_a_workspace_id(settings, tenant):
    settings.BLIND_INDEX_KEY = "index-key-one"

    with pytest.raises(TypeError, match="tenant"):
        crypto.blind_index("+919812345621", purpose="contacts.Contact.phone", tenant=tenant)
    with pytest.raises(TypeError, match="tenant"):
        crypto.blind_index("+919812345621", purpose="contacts.Contact.phone")  # type: ignore[call-arg]
