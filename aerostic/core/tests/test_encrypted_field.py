"""EncryptedTextField and SealedValue over real rows (aerostic.testsupport models, real Postgres)."""

import secrets
from io import StringIO

import pytest
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.core import serializers
from django.core.management import call_command
from django.db import connection, models
from django.forms import modelform_factory
from django.test.utils import isolate_apps

from aerostic.core import crypto
from aerostic.core.fields import EncryptedTextField, SealedValue
from aerostic.core.tenant_context import platform_context, tenant_context
from aerostic.testsupport.models import PlatformSecret, SealedNote
from tenants.models import Tenant

pytestmark = pytest.mark.django_db

PLAIN = "EAAG-very-secret-system-user-token"


def _raw(table: str, column: str) -> list[str | None]:
    """The stored column, read past the ORM (platform scope so RLS shows every tenant's rows)."""
    with platform_context("test: raw read"), connection.cursor() as cursor:
        cursor.execute(f'SELECT "{column}" FROM "{table}" ORDER BY id')
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture(autouse=True)
def ring(settings):
    settings.TOKEN_ENCRYPTION_KEYS = f"k1:{secrets.token_urlsafe(32)}"


@pytest.fixture
def tenant() -> Tenant:
    return Tenant.objects.create(name="Alpha", slug="alpha")


def test_value_is_stored_as_ciphertext(tenant):
    with tenant_context(tenant):
        SealedNote.objects.create(title="t", secret=PLAIN)

    [stored] = _raw("testsupport_sealednote", "secret")

    assert stored.startswith("v1.k1.")
    assert PLAIN not in stored


def test_a_loaded_value_reveals_the_plaintext(tenant):
    with tenant_context(tenant):
        note = SealedNote.objects.create(title="t", secret=PLAIN)

        loaded = SealedNote.objects.get(pk=note.pk)

    assert isinstance(loaded.secret, SealedValue)
    assert loaded.secret.reveal() == PLAIN


def test_assigning_a_plain_string_seals_it_at_once():
    secret = PlatformSecret(name="app", value=PLAIN)

    assert isinstance(secret.value, SealedValue)
    assert secret.value.reveal() == PLAIN
    assert PLAIN not in str(vars(secret))


def test_a_saved_instance_holds_the_stored_ciphertext(tenant):
    with tenant_context(tenant):
        note = SealedNote(title="t")
        note.secret = PLAIN

        note.save()

    assert note.secret.ciphertext == _raw("testsupport_sealednote", "secret")[0]
    assert PLAIN not in str(vars(note))


def test_a_change_logged_by_auditlog_does_not_carry_the_plaintext():
    # django-auditlog diffs in a pre_save receiver, before Field.pre_save would run.
    auditlog.register(PlatformSecret)
    try:
        secret = PlatformSecret.objects.create(name="app", value="first-" + PLAIN)
        secret.name = "renamed"  # auditlog writes an update entry only when a shown value changed
        secret.value = "second-" + PLAIN
        secret.save()
    finally:
        auditlog.unregister(PlatformSecret)

    logged = [str(entry.changes) for entry in LogEntry.objects.get_for_object(secret)]
    assert len(logged) == 2
    assert not any(PLAIN[6:] in changes for changes in logged)


def test_plaintext_never_shows_in_str_or_repr(tenant):
    with tenant_context(tenant):
        note = SealedNote.objects.create(title="t", secret=PLAIN)
        loaded = SealedNote.objects.get(pk=note.pk)

    shown = str(loaded.secret) + repr(loaded.secret) + f"{loaded.secret}" + str(loaded) + repr(loaded)
    assert PLAIN not in shown
    assert str(loaded.secret) == "<sealed:k1>"
    assert repr(loaded.secret) == "<SealedValue key_id=k1>"


def test_a_malformed_stored_value_still_prints_safely():
    sealed = SealedValue("not-a-ciphertext", "testsupport.PlatformSecret.value")

    assert str(sealed) == "<sealed:?>"


def test_none_stays_none(tenant):
    with tenant_context(tenant):
        note = SealedNote.objects.create(title="empty")

        assert SealedNote.objects.get(pk=note.pk).secret is None
    assert _raw("testsupport_sealednote", "secret") == [None]


def test_an_unchanged_value_is_not_re_encrypted_on_save(tenant):
    with tenant_context(tenant):
        note = SealedNote.objects.create(title="t", secret=PLAIN)
        loaded = SealedNote.objects.get(pk=note.pk)
        loaded.title = "renamed"

        loaded.save()

    assert _raw("testsupport_sealednote", "secret") == [note.secret.ciphertext]


def test_sealed_values_are_equal_by_ciphertext():
    assert SealedValue("v1.k1.abc", "a.B.c") == SealedValue("v1.k1.abc", "a.B.c")
    assert SealedValue("v1.k1.abc", "a.B.c") != SealedValue("v1.k1.abd", "a.B.c")
    assert SealedValue("v1.k1.abc", "a.B.c") != "v1.k1.abc"


def test_an_empty_sealed_value_is_falsy():
    assert not SealedValue("", "a.B.c")
    assert SealedValue("v1.k1.abc", "a.B.c")


def test_the_encryption_context_is_app_model_and_field():
    assert SealedNote._meta.get_field("secret").encryption_context == "testsupport.SealedNote.secret"
    assert PlatformSecret._meta.get_field("value").encryption_context == "testsupport.PlatformSecret.value"


def test_a_ciphertext_copied_to_another_field_does_not_reveal(tenant):
    with tenant_context(tenant):
        note = SealedNote.objects.create(title="t", secret=PLAIN)
    copy = PlatformSecret.objects.create(name="copy", value=note.secret)

    with pytest.raises(crypto.DecryptionError, match="failed authentication"):
        PlatformSecret.objects.get(pk=copy.pk).value.reveal()


def test_queryset_update_with_a_plain_string_encrypts_it():
    secret = PlatformSecret.objects.create(name="app", value="before")

    PlatformSecret.objects.filter(pk=secret.pk).update(value=PLAIN)

    assert PLAIN not in _raw("testsupport_platformsecret", "value")[0]
    assert PlatformSecret.objects.get(pk=secret.pk).value.reveal() == PLAIN


def test_dumpdata_and_loaddata_keep_the_value_sealed_once():
    original = PlatformSecret.objects.create(name="app", value=PLAIN)
    dumped = serializers.serialize("json", [original])
    PlatformSecret.objects.all().delete()

    for item in serializers.deserialize("json", dumped):
        item.save()

    assert PLAIN not in dumped
    assert PlatformSecret.objects.get().value.reveal() == PLAIN


def test_a_non_string_value_is_refused():
    with pytest.raises(TypeError, match="testsupport.PlatformSecret.value takes a str, not int"):
        PlatformSecret(name="app", value=12345)


def test_the_field_is_left_out_of_model_forms():
    form_class = modelform_factory(PlatformSecret, fields="__all__")

    assert list(form_class.base_fields) == ["name"]


def test_an_editable_field_renders_without_its_value():
    field = EncryptedTextField(editable=True)

    widget_html = field.formfield().widget.render("value", SealedValue("v1.k1.abc", "a.B.c"))

    assert 'type="password"' in widget_html
    assert "v1.k1.abc" not in widget_html
    assert "sealed" not in widget_html


@pytest.mark.parametrize(
    ("field", "expected_kwargs"),
    [
        (EncryptedTextField(), {}),
        (EncryptedTextField(null=True), {"null": True}),
        (EncryptedTextField(editable=True), {"editable": True}),
        (EncryptedTextField(context="old.Model.field"), {"context": "old.Model.field"}),
    ],
    ids=["plain", "null", "editable", "pinned-context"],
)
def test_deconstruct_round_trips(field, expected_kwargs):
    name, path, args, kwargs = field.deconstruct()

    assert path == "aerostic.core.fields.EncryptedTextField"
    assert kwargs == expected_kwargs
    rebuilt = EncryptedTextField(*args, **kwargs)
    assert (rebuilt.editable, rebuilt.null, rebuilt.explicit_context) == (
        field.editable,
        field.null,
        field.explicit_context,
    )


@isolate_apps("aerostic.testsupport")
def test_an_explicit_context_keeps_old_values_readable_after_a_rename():
    class RenamedNote(models.Model):  # noqa: DJ008  (throwaway model)
        secret = EncryptedTextField(context="testsupport.SealedNote.secret")

        class Meta:
            app_label = "testsupport"

    assert RenamedNote._meta.get_field("secret").encryption_context == "testsupport.SealedNote.secret"


def test_migrations_match_the_models():
    # makemigrations --check exits non-zero (SystemExit) when a model change has no migration.
    call_command("makemigrations", "testsupport", "--check", "--dry-run", stdout=StringIO())


@isolate_apps("aerostic.testsupport")
def test_a_unique_encrypted_field_fails_the_system_check():
    class UniqueSecret(models.Model):  # noqa: DJ008  (throwaway model)
        value = EncryptedTextField(unique=True)

        class Meta:
            app_label = "testsupport"

    errors = UniqueSecret._meta.get_field("value").check()

    assert [error.id for error in errors] == ["core.E001"]
