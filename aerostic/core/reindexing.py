"""Rewriting stored blind indexes to the per-workspace derivation (`crypto.blind_index(tenant=...)`).

Used by the data migrations of the apps that store an index: each walks its table by primary key
in batches, in the platform scope (RLS would show a migration nothing otherwise), recomputes every
index from the decrypted value beside it and writes the changed ones with one UPDATE per batch.
Running it again changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import connection, models

BATCH_SIZE = 2000
MIGRATION_SCOPE = "migration: blind indexes private to each workspace"


def legacy_blind_index(value: str, *, purpose: str) -> str:
    """An index as it was stored before indexes were private to a workspace (one key for every
    tenant). Only to recognise rows written then, in these migrations; never to store."""
    message = f"{purpose}\x00{value}".encode()
    return hmac.new(settings.BLIND_INDEX_KEY.encode("utf-8"), message, hashlib.sha256).hexdigest()


def rows_in_batches(
    model: type[models.Model], *, fields: tuple[str, ...], batch_size: int = BATCH_SIZE
) -> Iterator[list[Any]]:
    """Every row of the table (historical or real model), by primary key, `batch_size` at a time.
    The caller is in the platform scope."""
    last = 0
    while True:
        batch = list(model._base_manager.filter(pk__gt=last).order_by("pk").only(*fields)[:batch_size])
        if not batch:
            return
        yield batch
        last = batch[-1].pk


def write_column(model: type[models.Model], column: str, values: dict[int, str]) -> int:
    """Sets `column` of the rows in `values` (id → text) in one statement; returns rows changed."""
    if not values:
        return 0
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" AS t SET "{column}" = v.value'  # noqa: S608  (our table and column names)
            " FROM unnest(%s::bigint[], %s::text[]) AS v(id, value)"
            f' WHERE t.id = v.id AND t."{column}" IS DISTINCT FROM v.value',
            [list(values), list(values.values())],
        )
        return cursor.rowcount
