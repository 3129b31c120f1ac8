"""Message retention: what the workspace keeps of message content expires after its
`message_retention_days` (the inbox's message bodies, whatsapp's outbound content: each app's
registered `expire`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from aerostic.core.tenant_context import tenant_context
from compliance.models import ComplianceSettings
from compliance.privacy.registry import personal_data_handlers


def retention_purge(*, tenant_id: int, now: datetime | None = None) -> int:
    """Clears what the registered apps keep of message content older than the tenant's
    `message_retention_days` (none set: nothing): the inbox's message bodies and media references,
    outbound messages' content and template values. Returns how many rows were cleared."""
    now = now or timezone.now()
    with tenant_context(tenant_id), transaction.atomic():
        days = ComplianceSettings.objects.values_list("message_retention_days", flat=True).first()
        if days is None:
            return 0
        cutoff = now - timedelta(days=days)
        cleared = 0
        for _name, handler in personal_data_handlers():
            if handler.expire is not None:
                cleared += handler.expire(tenant_id=tenant_id, before=cutoff)
        return cleared
