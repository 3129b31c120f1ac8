"""Reads of platform records shared by portal and API."""

from __future__ import annotations

from django.db.models import QuerySet

from aerostic.core.models import AuditEvent


def audit_event_list(*, action_prefix: str | None = None) -> QuerySet[AuditEvent]:
    """The current tenant's audit trail, newest first."""
    events = AuditEvent.objects.select_related("actor").order_by("-created_at", "-id")
    if action_prefix:
        events = events.filter(action__startswith=action_prefix)
    return events
