"""Platform-wide periodic jobs of the core app."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from aerostic.core.jobs import platform_job
from aerostic.core.models import AuditEvent


@platform_job("audit retention")
def purge_old_audit_events() -> int:
    cutoff = timezone.now() - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    deleted, _ = AuditEvent.all_tenants.filter(created_at__lt=cutoff).delete()
    return deleted


@platform_job("alert rules", atomic=False)  # notices are sent outside any transaction
def evaluate_alert_rules() -> dict[str, object]:
    """Every minute: the alert rules, then the notices owed (aerostic.core.alert_rules, alert_notices)."""
    from aerostic.core.alert_notices import deliver_notices
    from aerostic.core.alert_rules import evaluate_rules

    return {"rules": evaluate_rules(), "notices": deliver_notices()}
