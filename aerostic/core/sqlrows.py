"""Many rows as one statement parameter: a JSON array that Postgres reads with
`jsonb_to_recordset(%s::jsonb) AS v(column type, …)`.

The bulk statements of the hot paths (a webhook batch writes hundreds of rows per statement) used
Postgres arrays, one per column. psycopg's client-side binding quotes every element of a text
array on its own (a regular expression per string): a quarter of a webhook batch's CPU went
there. One JSON document is written by `json.dumps` (C) in one go, and the AS clause types the
columns. Values: str, int, float, bool, None, dicts and lists (jsonb columns), and datetimes
(ISO 8601, read as timestamptz).

`bound_cursor()` sends such a statement's parameters apart from its text (server-side binding):
Django's default cursor binds on the client, copying every parameter into the SQL text with its
quotes escaped, and Postgres then parses a batch's megabyte of JSON as a literal. On the status
webhook bench that quoting was 15 % of a batch's CPU.

Rows by id from a list (`UPDATE t … FROM jsonb_to_recordset(…) v WHERE t.id = v.id`) join on the
id alone: the ids were read in the tenant's scope, and row-level security filters every row
again. A `t.tenant_id = %s` beside the join let a planner without statistics yet (a table that
grew fast, before autovacuum analysed it) start from the tenant's index and rescan the list once
per row of the tenant: 2 s per webhook batch at 40,000 conversations, 5 ms on the id alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar, cast

from django.db import connection
from django.db.backends.postgresql.base import ServerBindingCursor  # type: ignore[attr-defined]  # not in django-stubs
from django.db.backends.utils import CursorWrapper
from django.db.models import Field, JSONField, Model

_M = TypeVar("_M", bound=Model)


def json_rows(rows: Iterable[Mapping[str, Any]]) -> str:
    return json.dumps(list(rows), default=_plain, separators=(",", ":"))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a JSON row value")


class _UnpreparedServerBindingCursor(ServerBindingCursor):
    """Never a prepared statement: each execution is planned for its own parameters (as with
    client-side binding), and a pooler in transaction mode never meets a statement it lacks."""

    def execute(self, query, params=None, *, prepare=None, binary=None):  # noqa: ANN001, ANN201 - psycopg's signature
        return super().execute(query, params, prepare=False, binary=binary)


def bound_cursor() -> CursorWrapper:
    """`connection.cursor()` with server-side binding, for statements with large parameters (a JSON
    document of rows, long arrays). Execute wrappers (the RLS scope) and query logging apply as
    with Django's cursor. Parameters stay below Postgres' 65,535 per statement: pass rows as one
    `json_rows` document or one array per column, never a placeholder per value."""
    connection.ensure_connection()
    # Django's own step from a driver cursor to the wrapped one (debug logging included).
    # A private method django-stubs does not declare.
    return connection._prepare_cursor(_UnpreparedServerBindingCursor(connection.connection))  # type: ignore[attr-defined]  # noqa: SLF001


def insert_rows(model: type[_M], objs: Sequence[_M]) -> None:
    """`model.objects.bulk_create(objs)` for the hot paths, in one INSERT … SELECT FROM
    jsonb_to_recordset bound on the server: each value prepared by its field as a save would
    (encrypted fields seal, JSON stays JSON), none quoted by the driver or compiled by the ORM
    (bulk_create's per-value placeholders were a seventh of an inbound webhook batch's CPU).

    For rows whose primary key is set (nothing is read back), with no conflict expected (a
    conflict raises, as bulk_create's would); callers scope them (tenant_id set on each)."""
    if not objs:
        return
    fields = [field for field in model._meta.concrete_fields if not field.generated]  # noqa: SLF001
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    types = ", ".join(f"{connection.ops.quote_name(field.column)} {_json_column_type(field)}" for field in fields)
    rows = json_rows({field.column: _json_value(field, obj) for field in fields} for obj in objs)
    table = connection.ops.quote_name(model._meta.db_table)  # noqa: SLF001
    with bound_cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM jsonb_to_recordset(%s::jsonb) AS v({types})",  # noqa: S608
            [rows],
        )


def _json_column_type(field: Field) -> str:
    # Every concrete field has a column type; db_type() is None only for fields without a column.
    return "jsonb" if isinstance(field, JSONField) else cast(str, field.db_type(connection))


def _json_value(field: Field, obj: Model) -> Any:
    value = field.pre_save(obj, add=True)  # as bulk_create: auto_now fields take their time
    if isinstance(field, JSONField):
        return value  # the document itself (its own prep wraps it for the driver)
    return field.get_db_prep_save(value, connection)
