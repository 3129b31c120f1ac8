"""Periodic jobs of the tenants app."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from aerostic.core.jobs import platform_job
from tenants.models import Invitation


@platform_job("expire invitations")
def expire_invitations() -> int:
    """Deletes invitations that expired more than 30 days ago; recent ones stay visible as expired."""
    cutoff = timezone.now() - timedelta(days=30)
    deleted, _ = Invitation.all_tenants.filter(accepted_at__isnull=True, expires_at__lt=cutoff).delete()
    return deleted
