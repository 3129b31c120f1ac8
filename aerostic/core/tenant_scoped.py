"""The base every tenant-owned model inherits: a `tenant` FK and a default manager that filters by
the current tenant (aerostic.core.tenant_context) and raises when none is set.

It lives in core, below every app, because core's own records (audit, alerts) are tenant-owned too;
the FK names the Tenant model by its label, so core never imports the tenants app.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from aerostic.core.tenant_context import (
    NoTenantContext,
    current_scope,
    in_platform_context,
    require_tenant_id,
)


class TenantScopedQuerySet(models.QuerySet):
    pass


class TenantScopedManager(models.Manager):
    """Default manager: rows of the current tenant only; no tenant set means an error, not all rows.

    Inside an explicit platform_context (Django admin, webhook routing, platform jobs) it does not
    filter; Postgres RLS then lets platform code see every tenant, and nothing else ever can.
    """

    _queryset_class = TenantScopedQuerySet

    def get_queryset(self) -> models.QuerySet:
        queryset = super().get_queryset()
        scope = current_scope()
        if scope.tenant_id is not None:
            return queryset.filter(tenant_id=scope.tenant_id)
        if in_platform_context():
            return queryset
        require_tenant_id()  # raises NoTenantContext with the explanation
        raise AssertionError("unreachable")


class TenantScopedModel(models.Model):
    """Base of every tenant-owned model. Its table must get `EnableRowLevelSecurity` in its migration
    (tests/test_rls.py walks every subclass and fails when one is missing)."""

    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="%(app_label)s_%(class)s_set", editable=False
    )

    objects = TenantScopedManager()
    # Cross-tenant access: platform code only, and RLS still hides other tenants unless the
    # caller is inside platform_context(). Grep for `all_tenants` to review every use.
    all_tenants = models.Manager()  # noqa: DJ012  (ruff counts only `objects` as a manager)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        scope = current_scope()
        if self.tenant_id is None:
            if scope.tenant_id is not None:
                self.tenant_id = scope.tenant_id
            elif not (in_platform_context() and self._meta.get_field("tenant").null):
                raise NoTenantContext(f"Cannot save {type(self).__name__} without a tenant.")
        elif scope.tenant_id is not None and self.tenant_id != scope.tenant_id:
            raise NoTenantContext(
                f"Refusing to save {type(self).__name__} of tenant {self.tenant_id} "
                f"inside the context of tenant {scope.tenant_id}."
            )
        super().save(*args, **kwargs)
