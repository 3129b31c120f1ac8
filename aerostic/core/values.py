"""Reading the scalar values of Meta's payloads (webhooks, Graph answers), which arrive as strings
or numbers and are sometimes empty: one place, low in the layers so every app (compliance and
inbox as well as whatsapp) treats a bad value the same way (never an exception that would
dead-letter the whole delivery)."""

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


def error_codes(errors: Any) -> set[int]:
    """The numeric codes of Meta's `errors[]` (ints or strings; anything else skipped)."""
    codes: set[int] = set()
    for error in errors or []:
        if isinstance(error, dict):
            code: Any = error.get("code")  # Meta's JSON: an int, a numeric string, or anything
            try:
                codes.add(int(code))
            except (TypeError, ValueError):
                continue
    return codes
