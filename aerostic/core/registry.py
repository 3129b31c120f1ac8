"""A slot a higher layer fills: how a lower app calls code of an app above it without naming it.

The lower app owns the slot and calls what is in it; the higher app registers its implementation
from its `AppConfig.ready()` (DESIGN §1). The last registration wins, so a test may swap one in.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")


class Slot(Generic[T]):
    def __init__(self, what: str, *, filled_by: str) -> None:
        self.what, self.filled_by = what, filled_by
        self._value: T | None = None

    def register(self, value: T) -> None:
        self._value = value

    def get(self) -> T:
        if self._value is None:
            raise ImproperlyConfigured(f"No {self.what} is registered ({self.filled_by} registers it when ready).")
        return self._value

    def get_or_none(self) -> T | None:
        return self._value
