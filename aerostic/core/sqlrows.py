"""Many rows as one statement parameter: a JSON array that Postgres reads with
`jsonb_to_recordset(%s::jsonb) AS v(column type, …)`.

The bulk statements of the hot paths (a webhook batch writes hundreds of rows per statement) used
Postgres arrays, one per column. psycopg's client-side binding quotes every element of a text
array on its own (a regular expression per string): a quarter of a webhook batch's CPU went
there. One JSON document is written by `json.dumps` (C) in one go, and the AS clause types the
columns. Values: str, int, float, bool, None, dicts and lists (jsonb columns), and datetimes
(ISO 8601, read as timestamptz).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def json_rows(rows: Iterable[Mapping[str, Any]]) -> str:
    return json.dumps(list(rows), default=_plain, separators=(",", ":"))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a JSON row value")
