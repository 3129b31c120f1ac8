"""EncryptedTextField and key rotation over real rows."""

import base64
import os

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from aerostic.core.fields import SealedValue
from aerostic.core.models import AuditEvent
from aerostic.testsupport.models import PlatformSecret, SealedNote
from tenants.context import platform_context, tenant_context

pytestmark = pytest.mark.django_db

PLAIN = "EAAG-very-secret-system-user-token"


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _raw(table: str, column: str) -> list[str]:
    with platform_context("test: raw read"), connection.cursor() as cursor:
        cursor.execute(f'SELECT "{column}" FROM "{table}" ORDER BY id')  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def old_ring(settings):
    settings.TOKEN_ENCRYPTION_KEYS = f"old:{_key()}"
    return settings.TOKEN_ENCRYPTION_KEYS


def test_value_is_stored_encrypted_and_revealed_on_demand(alpha, old_ring):
    with tenant_context(alpha.tenant):
        note = SealedNote.objects.create(title="t", secret=PLAIN)
        assert isinstance(note.secret, SealedValue)
        assert SealedNote.objects.get(pk=note.pk).secret.reveal() == PLAIN
    assert _raw("testsupport_sealednote", "secret")[0].startswith("v1.old.")
    assert PLAIN not in _raw("testsupport_sealednote", "secret")[0]


def test_plaintext_never_shows_in_str_or_repr(alpha, old_ring):
    with tenant_context(alpha.tenant):
        note = SealedNote.objects.create(title="t", secret=PLAIN)
    assert PLAIN not in str(note.secret) + repr(note.secret) + repr(note) + str(vars(note))


def test_rotation_re_encrypts_every_value_under_the_newest_key(alpha, bravo, old_ring, settings):
    with tenant_context(alpha.tenant):
        SealedNote.objects.create(title="a", secret=PLAIN)
    with tenant_context(bravo.tenant):
        SealedNote.objects.create(title="b", secret=PLAIN + "-b")
    PlatformSecret.objects.create(name="app", value="app-secret")
    settings.TOKEN_ENCRYPTION_KEYS = f"new:{_key()},{old_ring}"

    call_command("rotate_encryption_keys", stdout=open(os.devnull, "w"))  # noqa: SIM115

    assert all(value.startswith("v1.new.") for value in _raw("testsupport_sealednote", "secret"))
    assert _raw("testsupport_platformsecret", "value")[0].startswith("v1.new.")
    settings.TOKEN_ENCRYPTION_KEYS = settings.TOKEN_ENCRYPTION_KEYS.split(",")[0]  # drop the old key
    with tenant_context(bravo.tenant):
        assert SealedNote.objects.get().secret.reveal() == PLAIN + "-b"
    assert PlatformSecret.objects.get().value.reveal() == "app-secret"
    with platform_context("test"):
        assert AuditEvent.all_tenants.filter(action="encryption.keys_rotated").exists()


def test_rotation_is_idempotent(alpha, old_ring, settings, capsys):
    with tenant_context(alpha.tenant):
        SealedNote.objects.create(title="a", secret=PLAIN)
    settings.TOKEN_ENCRYPTION_KEYS = f"new:{_key()},{old_ring}"
    call_command("rotate_encryption_keys")
    first = _raw("testsupport_sealednote", "secret")
    call_command("rotate_encryption_keys")
    assert _raw("testsupport_sealednote", "secret") == first
    assert "testsupport.SealedNote.secret" in capsys.readouterr().out


def test_dry_run_writes_nothing(alpha, old_ring, settings):
    with tenant_context(alpha.tenant):
        SealedNote.objects.create(title="a", secret=PLAIN)
    before = _raw("testsupport_sealednote", "secret")
    settings.TOKEN_ENCRYPTION_KEYS = f"new:{_key()},{old_ring}"
    call_command("rotate_encryption_keys", "--dry-run", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert _raw("testsupport_sealednote", "secret") == before


def test_a_value_under_a_removed_key_stops_the_command_without_leaking_it(alpha, old_ring, settings):
    with tenant_context(alpha.tenant):
        note = SealedNote.objects.create(title="a", secret=PLAIN)
    settings.TOKEN_ENCRYPTION_KEYS = f"new:{_key()}"
    with pytest.raises(CommandError) as error:
        call_command("rotate_encryption_keys")
    assert f"testsupport.SealedNote.secret pk={note.pk}" in str(error.value)
    assert PLAIN not in str(error.value)


def test_null_values_stay_null(alpha, old_ring):
    with tenant_context(alpha.tenant):
        note = SealedNote.objects.create(title="empty")
        assert SealedNote.objects.get(pk=note.pk).secret is None
