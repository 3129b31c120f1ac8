"""Tenant, Membership and Invitation (the base of every tenant-owned model is aerostic.core.tenant_scoped)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from accounts.roles import Role
from aerostic.core.tenant_scoped import TenantScopedModel


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


# Feature flags per workspace (django-waffle's flag model, settings.WAFFLE_FLAG_MODEL).
from tenants.flags import WorkspaceFlag  # noqa: E402, F401
