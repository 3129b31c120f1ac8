"""Platform-wide records: the audit trail and alerts for tenant admins and platform staff."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from aerostic.core.tenant_scoped import TenantScopedModel


class AuditEvent(TenantScopedModel):
    """One thing a person (or the platform) did. Never holds message bodies or secrets."""

    # Nullable, unlike TenantScopedModel's: Django lets a model override its abstract parent's field,
    # mypy does not let a subclass widen an attribute's type.
    tenant = models.ForeignKey(  # type: ignore[assignment]
        "tenants.Tenant",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="core_auditevent_set",
        editable=False,
        help_text="Empty for platform-wide events (visible to platform staff only).",
    )
    action = models.CharField(max_length=80)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_email = models.CharField(max_length=254, blank=True)
    target_type = models.CharField(max_length=80, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="audit_tenant_created"),
            models.Index(fields=["tenant", "action"], name="audit_tenant_action"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_email or 'platform'}"


class Alert(TenantScopedModel):
    """Something a person must act on (expiring token, quality drop, restricted account).

    Tenant alerts show on the tenant's dashboard and in Django admin; platform alerts (no tenant)
    only in admin. One open alert per (tenant, key): raising it again refreshes it.
    """

    class Level(models.TextChoices):
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        CRITICAL = "critical", "Critical"

    # Nullable for platform alerts (see AuditEvent.tenant for the ignore).
    tenant = models.ForeignKey(  # type: ignore[assignment]
        "tenants.Tenant",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="core_alert_set",
        editable=False,
    )
    key = models.CharField(max_length=120, help_text="What the alert is about, e.g. token:42:expiring")
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.WARNING)
    title = models.CharField(max_length=200)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "key"], condition=models.Q(resolved_at__isnull=True), name="alert_one_open_per_key"
            )
        ]

    def __str__(self) -> str:
        return self.title
