"""Reading the scalar values of Meta's webhook payloads, which arrive as strings or numbers and are
sometimes empty: one place, so every handler treats a bad value the same way (never an exception
that would dead-letter the whole delivery)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def digits(value: Any) -> str:
    """A WhatsApp id or phone number as digits only ("+1 650-555" → "1650555")."""
    return "".join(ch for ch in str(value or "") if ch.isdigit())


def meta_time(unix: Any, *, default: datetime | None = None) -> datetime | None:
    """Meta's Unix timestamps ("1700000000" or 1700000000) as aware datetimes; `default` when the
    value is missing or not a number."""
    try:
        return datetime.fromtimestamp(int(unix), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return default
