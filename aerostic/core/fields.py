"""EncryptedTextField: stores AES-GCM ciphertext; the Python value is a SealedValue.

A SealedValue never shows its secret in str(), repr(), forms, templates or logs; code that needs
the plaintext calls `.reveal()` (the Graph client, nothing else). Assign a plain string to
encrypt it on save.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from aerostic.core import crypto


class SealedValue:
    __slots__ = ("ciphertext", "context")

    def __init__(self, ciphertext: str, context: str) -> None:
        self.ciphertext = ciphertext
        self.context = context

    @property
    def key_id(self) -> str:
        return crypto.key_id_of(self.ciphertext)

    def reveal(self) -> str:
        return crypto.decrypt(self.ciphertext, context=self.context)

    def __str__(self) -> str:
        return "<sealed>"

    def __repr__(self) -> str:
        return f"<SealedValue key={self.key_id}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SealedValue) and other.ciphertext == self.ciphertext

    def __hash__(self) -> int:
        return hash(self.ciphertext)

    def __bool__(self) -> bool:
        return bool(self.ciphertext)


class EncryptedTextField(models.TextField):
    description = "Text encrypted at rest with AES-256-GCM"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def contribute_to_class(self, cls: type[models.Model], name: str, *args: Any, **kwargs: Any) -> None:
        super().contribute_to_class(cls, name, *args, **kwargs)
        self.encryption_context = f"{cls._meta.app_label}.{cls.__name__}.{name}"

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("editable") is False:
            del kwargs["editable"]
        return name, path, args, kwargs

    def _seal(self, value: Any) -> SealedValue | None:
        if value is None or isinstance(value, SealedValue):
            return value
        return SealedValue(str(value), self.encryption_context)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> SealedValue | None:
        return self._seal(value)

    def to_python(self, value: Any) -> Any:
        if value is None or isinstance(value, SealedValue):
            return value
        return value  # a plain string assigned by code: encrypted in get_prep_value

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = getattr(model_instance, self.attname)
        if value is not None and not isinstance(value, SealedValue):
            value = SealedValue(crypto.encrypt(str(value), context=self.encryption_context), self.encryption_context)
            setattr(model_instance, self.attname, value)  # the instance never keeps the plaintext
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, SealedValue):
            return value.ciphertext
        return crypto.encrypt(str(value), context=self.encryption_context)

    def value_to_string(self, obj: models.Model) -> str:
        value = self.value_from_object(obj)
        return value.ciphertext if isinstance(value, SealedValue) else ""
