"""Replay: staff put dead or ignored webhook events back through processing (Django admin)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from aerostic.core import audit
from aerostic.core.tenant_context import platform_context
from whatsapp.models import WebhookEvent
from whatsapp.webhooks.intake import enqueue_processing


def webhook_replay(*, event_ids: list[int], actor: Any) -> int:
    """Dead or ignored events back to pending and onto the queue (Django admin's replay)."""
    with platform_context("replay webhook events"), transaction.atomic():
        ids = list(
            WebhookEvent.all_tenants.filter(pk__in=event_ids)
            .exclude(status=WebhookEvent.Status.PROCESSING)
            .values_list("pk", flat=True)
        )
        WebhookEvent.all_tenants.filter(pk__in=ids).update(status=WebhookEvent.Status.PENDING, attempts=0)
        audit.record("webhooks.replayed", actor=actor, metadata={"events": len(ids)})
        transaction.on_commit(lambda: enqueue_processing(*ids))
    return len(ids)
