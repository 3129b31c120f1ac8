"""Tenant, Membership, Invitation and the base class every tenant-owned model inherits."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from accounts.roles import Role
from tenants.context import (
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


class Tenant(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        CLOSED = "closed", "Closed"

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    sending_enabled = models.BooleanField(
        default=True, help_text="Tenant kill-switch: off stops every send of this tenant."
    )
    sending_disabled_reason = models.CharField(max_length=255, blank=True)
    messages_per_minute = models.PositiveIntegerField(default=600)
    campaign_sends_per_day = models.PositiveIntegerField(default=10_000)
    timezone = models.CharField(max_length=64, default="UTC")
    default_country = models.CharField(
        max_length=2, default="US", help_text="ISO country for phone numbers without a + prefix."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class Membership(TenantScopedModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AGENT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user")]
        indexes = [models.Index(fields=["tenant", "role"], name="membership_tenant_role")]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant_id} as {self.role}"


class Invitation(TenantScopedModel):
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AGENT)
    # Only a hash is kept: the link in the e-mail is the secret.
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "email"], name="invitation_tenant_email")]

    def __str__(self) -> str:
        return f"Invitation for {self.email}"

    def is_pending(self, now: Any) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now


def _register_auditlog() -> None:
    from auditlog.registry import auditlog

    auditlog.register(Tenant)
    auditlog.register(Membership)
    auditlog.register(Invitation, exclude_fields=["token_hash"])


_register_auditlog()
