"""The global kill-switch. The per-tenant switch is `Tenant.sending_enabled`."""

from __future__ import annotations

from django.conf import settings
from django.db import models


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


def _register_auditlog() -> None:
    from auditlog.registry import auditlog

    auditlog.register(PlatformSwitch)


_register_auditlog()
