"""Row-level security: the database refuses what the ORM filter would also refuse."""

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from aerostic.core.rls import POLICY_NAME
from aerostic.core.tenant_context import no_tenant_context, platform_context, tenant_context
from aerostic.core.tenant_scoped import TenantScopedModel
from tenants.models import Membership

pytestmark = pytest.mark.django_db


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608  (table names are ours)
        return cursor.fetchone()[0]


def test_app_role_is_not_superuser_and_cannot_bypass_rls():
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False)


def test_raw_sql_without_tenant_context_sees_zero_rows(alpha, bravo):
    with no_tenant_context():
        assert _count("tenants_membership") == 0
        assert _count("core_auditevent") == 0


def test_raw_sql_in_tenant_context_sees_only_that_tenant(alpha, bravo):
    with tenant_context(alpha.tenant), connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tenant_id FROM tenants_membership")
        assert [row[0] for row in cursor.fetchall()] == [alpha.tenant.pk]


def test_raw_sql_cannot_update_rows_of_another_tenant(alpha, bravo):
    with tenant_context(alpha.tenant), connection.cursor() as cursor:
        cursor.execute("UPDATE tenants_membership SET role = 'viewer' WHERE tenant_id = %s", [bravo.tenant.pk])
        assert cursor.rowcount == 0
    with tenant_context(bravo.tenant):
        assert Membership.objects.get(pk=bravo.admin.pk).role == "admin"


def test_raw_sql_cannot_insert_a_row_for_another_tenant(alpha, bravo):
    with (
        tenant_context(alpha.tenant),
        pytest.raises(ProgrammingError, match="row-level security"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO tenants_membership (tenant_id, user_id, role, created_at) VALUES (%s, %s, 'admin', now())",
            [bravo.tenant.pk, alpha.agent.user_id],
        )


def test_platform_context_sees_every_tenant(alpha, bravo):
    with platform_context("test: platform view"):
        assert _count("tenants_membership") == 6


def test_tenant_context_inside_platform_context_narrows_to_that_tenant(alpha, bravo):
    with platform_context("test: routing"), tenant_context(bravo.tenant):
        assert _count("tenants_membership") == 3


def test_scope_survives_a_rolled_back_savepoint(alpha, bravo):
    with tenant_context(alpha.tenant):
        _count("tenants_membership")
        with tenant_context(bravo.tenant):
            try:
                with transaction.atomic():
                    assert _count("tenants_membership") == 3
                    raise RuntimeError("roll the savepoint back")
            except RuntimeError:
                pass
            with connection.cursor() as cursor:
                cursor.execute("SELECT DISTINCT tenant_id FROM tenants_membership")
                assert [row[0] for row in cursor.fetchall()] == [bravo.tenant.pk]


@pytest.mark.django_db(transaction=True)
def test_scope_setting_is_transaction_local_and_never_leaks_to_the_next_transaction(alpha):
    with tenant_context(alpha.tenant), transaction.atomic():
        assert _count("tenants_membership") == 3
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.tenant_id', true), current_setting('app.platform', true)")
        assert cursor.fetchone() in [("", ""), (None, None)]
        cursor.execute("SELECT count(*) FROM tenants_membership")
        assert cursor.fetchone()[0] == 0


def _tenant_scoped_models():
    return [
        model
        for model in apps.get_models()
        if issubclass(model, TenantScopedModel) and not model._meta.abstract and not model._meta.proxy
    ]


def test_there_are_tenant_scoped_models_to_check():
    assert {model._meta.label for model in _tenant_scoped_models()} >= {
        "tenants.Membership",
        "tenants.Invitation",
        "core.AuditEvent",
        "inbox.SearchTerm",
    }


@pytest.mark.parametrize("model", _tenant_scoped_models(), ids=lambda model: model._meta.label)
def test_every_tenant_scoped_table_forces_rls_with_the_tenant_policy(model):
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass", [f'"{table}"']
        )
        assert cursor.fetchone() == (True, True), f"{table}: add EnableRowLevelSecurity to its migration"
        cursor.execute(
            "SELECT qual, with_check FROM pg_policies WHERE tablename = %s AND policyname = %s", [table, POLICY_NAME]
        )
        row = cursor.fetchone()
    assert row is not None, f"{table} has no {POLICY_NAME} policy"
    qual, with_check = row
    for clause in (qual, with_check):
        assert "app.tenant_id" in clause and "app.platform" in clause
