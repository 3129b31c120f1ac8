"""Row ids read from text (callback data, query strings)."""

from __future__ import annotations

BIGINT_MAX = 2**63 - 1


def parse_row_id(text: str) -> int | None:
    """The id `text` spells, or None: only ASCII digits within bigint. `str.isdigit()` alone lets
    "²" through to `int()` (a ValueError) and 20 digits through to Postgres (out of range)."""
    if not text or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if value <= BIGINT_MAX else None
