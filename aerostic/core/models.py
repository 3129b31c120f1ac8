"""Platform-wide records: the audit trail."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tenants.models import TenantScopedModel


class AuditEvent(TenantScopedModel):
    """One thing a person (or the platform) did. Never holds message bodies or secrets."""

    tenant = models.ForeignKey(
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
