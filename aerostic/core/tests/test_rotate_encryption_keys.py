"""`manage.py rotate_encryption_keys` over real rows of every tenant (real Postgres with RLS)."""

import secrets
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import platform_context, tenant_context
from aerostic.testsupport.models import PlatformSecret, SealedNote
from tenants.models import Tenant

pytestmark = pytest.mark.django_db

PLAIN = "EAAG-very-secret-system-user-token"
K0, K1, K2 = (secrets.token_urlsafe(32) for _ in range(3))
OLD_RING = f"old:{K1}"
ROTATION_RING = f"new:{K2},old:{K1}"


def _raw(table: str, column: str) -> list[str | None]:
    """The stored column, read past the ORM (platform scope so RLS shows every tenant's rows)."""
    with platform_context("test: raw read"), connection.cursor() as cursor:
        cursor.execute(f'SELECT "{column}" FROM "{table}" ORDER BY id')
        return [row[0] for row in cursor.fetchall()]


def _key_ids(table: str, column: str) -> list[str]:
    return [value.split(".")[1] for value in _raw(table, column) if value is not None]


def _rotate(*args: str) -> str:
    out = StringIO()
    call_command("rotate_encryption_keys", *args, stdout=out)
    return out.getvalue()


def _rotation_events() -> list[AuditEvent]:
    with platform_context("test: read audit"):
        return list(AuditEvent.all_tenants.filter(action="encryption.keys_rotated").order_by("id"))


def _notes(tenant: Tenant, *secrets_: str | None) -> list[SealedNote]:
    with tenant_context(tenant):
        return [SealedNote.objects.create(title=f"note {i}", secret=value) for i, value in enumerate(secrets_)]


@pytest.fixture
def alpha() -> Tenant:
    return Tenant.objects.create(name="Alpha", slug="alpha")


@pytest.fixture
def bravo() -> Tenant:
    return Tenant.objects.create(name="Bravo", slug="bravo")


@pytest.fixture
def old_ring(settings):
    settings.TOKEN_ENCRYPTION_KEYS = OLD_RING
    return settings


def test_rotation_moves_every_tenants_values_to_the_newest_key(alpha, bravo, old_ring):
    _notes(alpha, PLAIN + "-a")
    _notes(bravo, PLAIN + "-b", None)
    PlatformSecret.objects.create(name="app", value="app-secret")
    old_ring.TOKEN_ENCRYPTION_KEYS = ROTATION_RING

    _rotate()

    assert _key_ids("testsupport_sealednote", "secret") == ["new", "new"]
    assert _key_ids("testsupport_platformsecret", "value") == ["new"]
    with tenant_context(alpha):
        assert SealedNote.objects.get().secret.reveal() == PLAIN + "-a"
    with tenant_context(bravo):
        assert [note.secret and note.secret.reveal() for note in SealedNote.objects.order_by("pk")] == [
            PLAIN + "-b",
            None,
        ]
    assert PlatformSecret.objects.get().value.reveal() == "app-secret"


def test_after_rotation_the_old_key_can_be_removed(alpha, old_ring):
    _notes(alpha, PLAIN)
    old_ring.TOKEN_ENCRYPTION_KEYS = ROTATION_RING
    _rotate()

    old_ring.TOKEN_ENCRYPTION_KEYS = f"new:{K2}"

    with tenant_context(alpha):
        assert SealedNote.objects.get().secret.reveal() == PLAIN


def test_rotation_is_idempotent(alpha, old_ring):
    _notes(alpha, PLAIN, PLAIN + "-2")
    old_ring.TOKEN_ENCRYPTION_KEYS = ROTATION_RING
    _rotate()
    after_first = _raw("testsupport_sealednote", "secret")

    _rotate()

    assert _raw("testsupport_sealednote", "secret") == after_first
    second = _rotation_events()[-1].metadata
    assert (second["checked"], second["reencrypted"]) == (2, 0)


def test_rotation_works_through_several_batches(alpha, old_ring):
    _notes(alpha, *(f"{PLAIN}-{i}" for i in range(5)))
    old_ring.TOKEN_ENCRYPTION_KEYS = ROTATION_RING

    _rotate("--batch-size", "2")

    assert _key_ids("testsupport_sealednote", "secret") == ["new"] * 5
    with tenant_context(alpha):
        assert [note.secret.reveal() for note in SealedNote.objects.order_by("pk")] == [
            f"{PLAIN}-{i}" for i in range(5)
        ]


def test_the_report_counts_each_encrypted_field(alpha, old_ring):
    _notes(alpha, PLAIN)
    old_ring.TOKEN_ENCRYPTION_KEYS = ROTATION_RING
    _notes(alpha, PLAIN + "-current")
    PlatformSecret.objects.create(name="app", value="app-secret")

    output = _rotate()

    rows = {line.split()[0]: line.split()[1:] for line in output.splitlines() if line.strip()}
    assert rows["testsupport.SealedNote.secret"] == ["2", "1", "1"]  # checked, re-encrypted, current
    assert rows["testsupport.PlatformSecret.value"] == ["1", "0", "1"]


def test_rotation_is_audited_once_platform_wide_with_counts(alpha, old_ring):
    _notes(alpha, PLAIN)
    old_ring.TOKEN_ENCRYPTION_KEYS = ROTATION_RING

    _rotate()

    [event] = _rotation_events()
    assert event.tenant_id is None
    assert event.metadata["newest_key_id"] == "new"
    assert event.metadata["completed"] is True
    assert (event.metadata["checked"], event.metadata["reencrypted"]) == (1, 1)
    assert {"field": "testsupport.SealedNote.secret", "checked": 1, "reencrypted": 1, "current": 0} in (
        event.metadata["fields"]
    )


def test_dry_run_writes_nothing(alpha, old_ring):
    _notes(alpha, PLAIN)
    before = _raw("testsupport_sealednote", "secret")
    old_ring.TOKEN_ENCRYPTION_KEYS = ROTATION_RING

    output = _rotate("--dry-run")

    assert _raw("testsupport_sealednote", "secret") == before
    assert _rotation_events() == []
    assert "to re-encrypt" in output
    assert output.split("testsupport.SealedNote.secret")[1].split()[:3] == ["1", "1", "0"]


def test_a_value_under_a_removed_key_stops_the_command_naming_where_not_what(alpha, settings):
    settings.TOKEN_ENCRYPTION_KEYS = f"gone:{K0}"
    [note] = _notes(alpha, PLAIN)
    stored = _raw("testsupport_sealednote", "secret")[0]
    settings.TOKEN_ENCRYPTION_KEYS = ROTATION_RING

    with pytest.raises(CommandError) as error:
        _rotate()

    message = str(error.value)
    assert f"testsupport.SealedNote.secret pk={note.pk}: key id 'gone' is not in TOKEN_ENCRYPTION_KEYS" in message
    assert PLAIN not in message
    assert stored.split(".")[2] not in message


def test_dry_run_also_finds_a_value_it_could_not_decrypt(alpha, settings):
    settings.TOKEN_ENCRYPTION_KEYS = f"gone:{K0}"
    [note] = _notes(alpha, PLAIN)
    settings.TOKEN_ENCRYPTION_KEYS = ROTATION_RING

    with pytest.raises(CommandError, match=f"testsupport.SealedNote.secret pk={note.pk}"):
        _rotate("--dry-run")


def test_a_failing_batch_is_rolled_back_and_earlier_batches_are_kept(alpha, settings):
    settings.TOKEN_ENCRYPTION_KEYS = OLD_RING
    _notes(alpha, "one", "two", "three")
    settings.TOKEN_ENCRYPTION_KEYS = f"gone:{K0}"
    _notes(alpha, "four")
    settings.TOKEN_ENCRYPTION_KEYS = ROTATION_RING

    with pytest.raises(CommandError):
        _rotate("--batch-size", "2")

    # Batch 1 (one, two) committed; batch 2 (three, four) failed on "four" and wrote nothing.
    assert _key_ids("testsupport_sealednote", "secret") == ["new", "new", "old", "gone"]
    [event] = _rotation_events()
    assert (event.metadata["completed"], event.metadata["reencrypted"]) == (False, 2)
