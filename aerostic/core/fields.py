"""EncryptedTextField: stores AES-256-GCM ciphertext; the Python value is a SealedValue.

A SealedValue never shows its secret in str(), repr(), forms, templates or logs; code that needs
the plaintext calls `.reveal()` (the Graph client, nothing else). Assigning a plain `str` to the
attribute means "encrypt this": it is sealed at once (the model attribute is a descriptor), so the
instance holds a SealedValue, never the plaintext, before and after save.

Ciphertexts are randomised, so the column cannot be searched or made unique: store a
`crypto.blind_index(...)` beside it for that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.core import checks
from django.db import models
from django.db.models.expressions import Combinable
from django.db.models.query_utils import DeferredAttribute

from aerostic.core import crypto


class SealedValue:
    """An encrypted value as the application holds it: opaque until `.reveal()` is called."""

    __slots__ = ("ciphertext", "context")

    def __init__(self, ciphertext: str, context: str) -> None:
        self.ciphertext = ciphertext
        self.context = context

    @property
    def key_id(self) -> str:
        return crypto.key_id_of(self.ciphertext)

    def reveal(self) -> str:
        """The plaintext. Call it only where the secret is used (e.g. the Graph client)."""
        return crypto.decrypt(self.ciphertext, context=self.context)

    def _safe_key_id(self) -> str:
        # str()/repr() must never raise (they run inside logging and error pages).
        try:
            return self.key_id
        except crypto.DecryptionError:
            return "?"

    def __str__(self) -> str:
        return f"<sealed:{self._safe_key_id()}>"

    def __repr__(self) -> str:
        return f"<SealedValue key_id={self._safe_key_id()}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SealedValue):
            return NotImplemented
        return other.ciphertext == self.ciphertext

    def __hash__(self) -> int:
        return hash(self.ciphertext)

    def __bool__(self) -> bool:
        return bool(self.ciphertext)


class _SealingAttribute(DeferredAttribute):
    """Seals a plain string the moment it is assigned, so an instance never holds the plaintext.

    Encrypting only in pre_save would be too late: pre_save signal receivers (django-auditlog's
    change diff among them) read the attribute before Field.pre_save runs.
    """

    field: EncryptedTextField

    def __set__(self, instance: models.Model, value: Any) -> None:
        instance.__dict__[self.field.attname] = self.field.seal(value)


class EncryptedTextField(models.TextField):
    """Text encrypted at rest under the newest key of `TOKEN_ENCRYPTION_KEYS`.

    The AES-GCM associated data is `"<app_label>.<ModelName>.<field name>"`, so a ciphertext copied
    into another field will not decrypt. Renaming the model or field changes that context: pass
    `context="<old app>.<OldModel>.<old field>"` at the same time so existing values still decrypt.

    `editable=False` by default so the value never reaches Django admin or a ModelForm; a field
    made editable renders as a password input that never shows the stored value.
    """

    description = "Text encrypted at rest with AES-256-GCM"
    descriptor_class = _SealingAttribute
    db_index: bool  # set by Field.__init__; django-stubs does not declare it
    # The attribute types django-stubs gives models (their __init__ included): a str is sealed when
    # assigned, and the attribute always holds a SealedValue (or None). These are django-stubs' hooks
    # for a field's types; mypy sees them as narrowing TextField's, hence the ignores.
    _pyi_private_set_type: str | SealedValue | Combinable  # type: ignore[assignment]
    _pyi_private_get_type: SealedValue  # type: ignore[assignment]

    def __init__(self, *args: Any, context: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("editable", False)
        self.explicit_context = context
        self.encryption_context = context or ""
        super().__init__(*args, **kwargs)

    def contribute_to_class(self, cls: type[models.Model], name: str, *args: Any, **kwargs: Any) -> None:
        super().contribute_to_class(cls, name, *args, **kwargs)
        # Historical models in migrations have the same app label, name and field name, so they get
        # the same context and a data migration can reveal values too.
        self.encryption_context = self.explicit_context or f"{cls._meta.app_label}.{cls._meta.object_name}.{name}"

    def deconstruct(self) -> tuple[str, str, Sequence[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        # Our default is editable=False; Field.deconstruct compares with Field's default (True).
        if self.editable:
            kwargs["editable"] = True
        else:
            kwargs.pop("editable", None)
        if self.explicit_context:
            kwargs["context"] = self.explicit_context
        return name, path, args, kwargs

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        if self.unique or self.primary_key or self.db_index:
            errors.append(
                checks.Error(
                    "EncryptedTextField cannot be unique, a primary key or indexed: every encryption is "
                    "different, so equal values never match.",
                    hint="Store aerostic.core.crypto.blind_index(...) in a separate indexed/unique field.",
                    obj=self,
                    id="core.E001",
                )
            )
        return errors

    def _context(self) -> str:
        if not self.encryption_context:
            raise TypeError("EncryptedTextField is not attached to a model (no encryption context).")
        return self.encryption_context

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> SealedValue | None:
        if value is None:
            return None
        return SealedValue(value, self._context())

    def to_python(self, value: Any) -> Any:
        # Used by full_clean() and by loaddata: a string that is already one of our ciphertexts
        # (a fixture from dumpdata) is kept sealed rather than encrypted a second time. Any other
        # string is a plaintext, sealed when it is assigned back to the instance.
        if value is None or isinstance(value, SealedValue):
            return value
        if isinstance(value, str) and crypto.is_ciphertext(value):
            return SealedValue(value, self._context())
        return value

    def seal(self, value: Any) -> SealedValue | None:
        """None and SealedValue pass through; a plain string is encrypted under the newest key."""
        if value is None or isinstance(value, SealedValue):
            return value
        return SealedValue(self._encrypt(value), self._context())

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        # The descriptor has normally sealed the value already; this covers values put straight
        # into instance.__dict__, so the instance never keeps a plaintext after save.
        value = self.seal(getattr(model_instance, self.attname))
        model_instance.__dict__[self.attname] = value
        return value

    def get_prep_value(self, value: Any) -> Any:
        # Also reached by QuerySet.update(field="plain") and bulk_update(): encrypt there too.
        if value is None:
            return None
        if isinstance(value, SealedValue):
            return value.ciphertext
        return self._encrypt(value)

    def _encrypt(self, value: Any) -> str:
        if not isinstance(value, str):
            raise TypeError(
                f"{self.encryption_context or 'EncryptedTextField'} takes a str, not {type(value).__name__}"
            )
        return crypto.encrypt(value, context=self._context())

    # None stays None (a null column); Field's stub says str because its own version calls str().
    def value_to_string(self, obj: models.Model) -> str | None:  # type: ignore[override]
        # dumpdata writes the ciphertext (never the plaintext); loaddata keeps it sealed (to_python).
        value = self.value_from_object(obj)
        return None if value is None else self.get_prep_value(value)

    def formfield(
        self,
        form_class: type[forms.Field] | None = None,
        choices_form_class: type[forms.ChoiceField] | None = None,
        **kwargs: Any,
    ) -> forms.Field | None:
        # Only reached when a model opts in with editable=True: a write-only input.
        defaults: dict[str, Any] = {"widget": forms.PasswordInput(render_value=False)}
        defaults.update(kwargs)
        return super().formfield(form_class=form_class, choices_form_class=choices_form_class, **defaults)
