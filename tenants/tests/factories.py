"""Factories for tenants and memberships (memberships are created inside their tenant's context)."""

import factory

from accounts.roles import Role
from accounts.tests.factories import UserFactory
from aerostic.core.tenant_context import require_tenant_id, tenant_context
from tenants.models import Membership, Tenant


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.Sequence(lambda n: f"tenant-{n}")


def current_tenant() -> Tenant:
    """The tenant of the current context (raises NoTenantContext outside one): the default tenant of
    factories whose rows belong to "this workspace"."""
    return Tenant.objects.get(pk=require_tenant_id())


class TenantScopedFactory(factory.django.DjangoModelFactory):
    """Base for factories of TenantScopedModel subclasses: saves inside the row's tenant context."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        tenant = kwargs.get("tenant")
        with tenant_context(tenant):
            return super()._create(model_class, *args, **kwargs)


class MembershipFactory(TenantScopedFactory):
    class Meta:
        model = Membership

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.ADMIN
