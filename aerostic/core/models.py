"""Platform-wide records: the audit trail and alerts for tenant admins and platform staff."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from aerostic.core.fields import EncryptedTextField
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

    Tenant alerts show on the tenant's dashboard, its Alerts page and in Django admin; platform
    alerts (no tenant) only in admin. One open alert per (tenant, key): raising it again refreshes
    it, and its people are told once (`notified_at`), then once more when it clears
    (`recovery_notified_at`); aerostic.core.alert_notices delivers both.
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
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    notified_at = models.DateTimeField(null=True, blank=True, help_text="When its notice reached every channel")
    recovery_notified_at = models.DateTimeField(null=True, blank=True)
    notice_claimed_at = models.DateTimeField(null=True, blank=True, help_text="A deliverer is sending its notice")
    notice_attempts = models.PositiveSmallIntegerField(default=0)
    notice_error = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "key"], condition=models.Q(resolved_at__isnull=True), name="alert_one_open_per_key"
            )
        ]
        indexes = [
            # The notices still owed: open ones never told, cleared ones whose recovery is untold.
            models.Index(
                fields=["id"],
                condition=models.Q(notified_at__isnull=True, resolved_at__isnull=True)
                | models.Q(recovery_notified_at__isnull=True, resolved_at__isnull=False, notified_at__isnull=False),
                name="alert_notice_owed",
            )
        ]

    def __str__(self) -> str:
        return self.title


class AlertChannel(TenantScopedModel):
    """Where a workspace's alerts go: e-mail addresses or a Slack incoming webhook. The platform's
    own channel is configuration (ALERT_EMAILS, ALERT_SLACK_WEBHOOK_URL), not a row."""

    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        SLACK = "slack", "Slack"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=80)
    emails = models.CharField(max_length=500, blank=True, help_text="Comma-separated addresses (e-mail channels)")
    slack_webhook_url = EncryptedTextField(blank=True, help_text="The incoming webhook's URL, a secret: encrypted")
    min_level = models.CharField(max_length=10, choices=Alert.Level.choices, default=Alert.Level.WARNING)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"
