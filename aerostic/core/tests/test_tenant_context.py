"""The tenant context and the scoped manager: fail closed, always restored."""

import pytest

from aerostic.core.tenant_context import (
    NoTenantContext,
    current_scope,
    current_tenant_id,
    platform_context,
    tenant_context,
)
from tenants.models import Membership
from tenants.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_scoped_manager_raises_without_a_tenant(alpha):
    with pytest.raises(NoTenantContext):
        list(Membership.objects.all())


def test_scoped_manager_returns_only_the_current_tenants_rows(alpha, bravo):
    with tenant_context(alpha.tenant):
        assert {m.tenant_id for m in Membership.objects.all()} == {alpha.tenant.pk}


def test_another_tenants_row_is_not_found_by_id(alpha, bravo):
    with tenant_context(alpha.tenant), pytest.raises(Membership.DoesNotExist):
        Membership.objects.get(pk=bravo.admin.pk)


def test_saving_a_row_of_another_tenant_inside_a_context_is_refused(alpha, bravo):
    with tenant_context(alpha.tenant), pytest.raises(NoTenantContext, match="Refusing"):
        bravo.admin.role = "viewer"
        bravo.admin.save()


def test_new_rows_take_the_current_tenant(alpha):
    from accounts.tests.factories import UserFactory

    with tenant_context(alpha.tenant):
        membership = Membership.objects.create(user=UserFactory(), role="viewer")
    assert membership.tenant_id == alpha.tenant.pk


def test_saving_without_any_context_is_refused(alpha):
    from accounts.tests.factories import UserFactory

    with pytest.raises(NoTenantContext):
        Membership(user=UserFactory(), role="viewer").save()


def test_context_is_restored_after_an_exception(alpha, bravo):
    with tenant_context(alpha.tenant):
        with pytest.raises(ValueError), tenant_context(bravo.tenant):
            raise ValueError
        assert current_tenant_id() == alpha.tenant.pk
    assert current_tenant_id() is None


def test_platform_context_needs_a_reason():
    with pytest.raises(ValueError), platform_context(""):
        pass


def test_platform_context_is_off_inside_a_tenant_context(alpha):
    with platform_context("test"), tenant_context(alpha.tenant):
        assert current_scope().is_platform is False
    assert current_scope().is_platform is False


def test_related_manager_is_scoped_too(alpha, bravo):
    shared_user = alpha.admin.user
    MembershipFactory(tenant=bravo.tenant, user=shared_user, role="viewer")
    with tenant_context(alpha.tenant):
        assert [m.tenant_id for m in shared_user.memberships.all()] == [alpha.tenant.pk]
