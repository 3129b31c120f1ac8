"""The global kill-switch. The per-tenant switch is `Tenant.sending_enabled`."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from aerostic.core.fields import EncryptedTextField
from tenants.models import TenantScopedModel


class PlatformSwitch(models.Model):
    """A single row: when sending is off here, no tenant sends anything."""

    SINGLETON_ID = 1

    sending_enabled = models.BooleanField(default=True)
    reason = models.CharField(max_length=255, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "global kill-switch"
        verbose_name_plural = "global kill-switch"
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="platform_switch_singleton")]

    def __str__(self) -> str:
        return "Sending on" if self.sending_enabled else f"Sending off: {self.reason or 'no reason given'}"


class UserPreferenceEvent(TenantScopedModel):
    """A customer told WhatsApp itself to stop (or resume) marketing messages from this business
    (`user_preferences` webhook). Kept once per (customer, category, value, time); the consent
    ledger turns unapplied rows into opt-out / opt-in events."""

    phone_number = models.ForeignKey("whatsapp.PhoneNumber", on_delete=models.PROTECT, related_name="+")
    customer_wa_id = EncryptedTextField(blank=True)
    customer_index = models.CharField(max_length=64)
    category = models.CharField(max_length=64, help_text="Meta's category, e.g. marketing_messages")
    value = models.CharField(max_length=16, help_text="stop or resume")
    detail = models.CharField(max_length=255, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True, help_text="When the consent ledger took it in")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "customer_index", "category", "value", "occurred_at"], name="user_preference_once"
            )
        ]
        indexes = [models.Index(fields=["tenant", "applied_at"], name="user_preference_unapplied")]

    def __str__(self) -> str:
        return f"{self.category}: {self.value} at {self.occurred_at:%Y-%m-%d %H:%M}"


def _register_auditlog() -> None:
    from auditlog.registry import auditlog

    auditlog.register(PlatformSwitch)


_register_auditlog()
