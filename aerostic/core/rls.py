"""Postgres row-level security: the backstop under the ORM's tenant filter.

Two halves:
- `EnableRowLevelSecurity`, a migration operation that puts ENABLE + FORCE RLS and the tenant
  policy on a table (one line per tenant-owned model in its migration);
- `apply_scope_to_query`, an execute wrapper installed on every connection that copies the
  current scope (aerostic.core.tenant_context) into transaction-local settings before the first query of each
  transaction and whenever the scope changes inside one. Because the settings are transaction
  local (`set_config(..., true)`), a pooled connection can never carry one tenant's id into the
  next request. A query made outside any transaction while a scope is set is wrapped in a short
  transaction of its own so the policy still sees the scope.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.operations.base import Operation

from aerostic.core.tenant_context import current_scope

TENANT_SETTING = "app.tenant_id"
PLATFORM_SETTING = "app.platform"
POLICY_NAME = "tenant_isolation"

_SCOPE_PREDICATE = (
    "(tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint"
    " OR current_setting('app.platform', true) = 'on')"
)


def policy_sql(table: str) -> list[str]:
    return [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY',
        f'DROP POLICY IF EXISTS {POLICY_NAME} ON "{table}"',
        f'CREATE POLICY {POLICY_NAME} ON "{table}" USING {_SCOPE_PREDICATE} WITH CHECK {_SCOPE_PREDICATE}',
    ]


def drop_policy_sql(table: str) -> list[str]:
    return [
        f'DROP POLICY IF EXISTS {POLICY_NAME} ON "{table}"',
        f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY',
    ]


class EnableRowLevelSecurity(Operation):
    """Migration operation: `EnableRowLevelSecurity("campaign")` after the model's CreateModel."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def _table(self, app_label: str, state: Any) -> str:
        model = state.apps.get_model(app_label, self.model_name)
        return model._meta.db_table

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in policy_sql(self._table(app_label, to_state)):
            schema_editor.execute(statement)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in drop_policy_sql(self._table(app_label, from_state)):
            schema_editor.execute(statement)

    def describe(self) -> str:
        return f"Enable row-level security on {self.model_name}"

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__qualname__, [self.model_name], {})

    @property
    def migration_name_fragment(self) -> str:
        return f"rls_{self.model_name.lower()}"


def _desired_settings() -> tuple[str, str]:
    scope = current_scope()
    tenant = "" if scope.tenant_id is None else str(scope.tenant_id)
    platform = "on" if scope.is_platform and scope.tenant_id is None else ""
    return tenant, platform


# The scope last copied into the connection's transaction: an attribute this module adds to Django's
# connection wrapper (django-stubs does not declare it, so it is read and written by name).
_APPLIED_SCOPE = "rls_applied_scope"

_SET_SCOPE_SQL = "SELECT set_config('app.tenant_id', %s, true), set_config('app.platform', %s, true)"


def _push_settings(connection: BaseDatabaseWrapper, desired: tuple[str, str]) -> None:
    # The raw psycopg connection: going through Django's cursor would re-enter this wrapper.
    connection.connection.execute(_SET_SCOPE_SQL, desired)
    setattr(connection, _APPLIED_SCOPE, desired)


def apply_scope_to_query(execute, sql, params, many, context):
    connection: BaseDatabaseWrapper = context["connection"]
    desired = _desired_settings()

    if connection.get_autocommit():
        if desired == ("", ""):
            return execute(sql, params, many, context)
        # Autocommit would commit (and forget) a transaction-local setting before the query
        # ran, so give this one query a transaction of its own.
        with transaction.atomic(using=connection.alias):
            _push_settings(connection, desired)
            return execute(sql, params, many, context)

    from psycopg.pq import TransactionStatus

    status = connection.connection.info.transaction_status
    applied = getattr(connection, _APPLIED_SCOPE, None)
    if status == TransactionStatus.IDLE:
        # The next statement opens a new transaction: nothing from the last one survives.
        if desired != ("", ""):
            _push_settings(connection, desired)
        else:
            setattr(connection, _APPLIED_SCOPE, ("", ""))
    elif status == TransactionStatus.INTRANS and applied != desired:
        _push_settings(connection, desired)

    result = execute(sql, params, many, context)
    if isinstance(sql, str) and sql.lstrip().upper().startswith("ROLLBACK TO SAVEPOINT"):
        # A rolled-back savepoint may have undone a set_config made inside it.
        setattr(connection, _APPLIED_SCOPE, None)
    return result


def install_scope_wrapper(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """connection_created handler: every connection carries the scope into Postgres."""
    if connection.vendor != "postgresql":
        return
    if apply_scope_to_query not in connection.execute_wrappers:
        connection.execute_wrappers.append(apply_scope_to_query)
    setattr(connection, _APPLIED_SCOPE, None)
