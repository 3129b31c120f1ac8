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
