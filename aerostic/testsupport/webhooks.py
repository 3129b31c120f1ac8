"""Tests' way to be Meta: sign a webhook body with the app secret, post it to the intake, process
the stored event as the worker would, and hand back the event as it ended."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.conf import settings
from django.test import Client


def meta_signature(raw: bytes, secret: str | None = None) -> str:
    """X-Hub-Signature-256 as Meta computes it (with another secret: a forged one)."""
    return "sha256=" + hmac.new((secret or settings.META_APP_SECRET).encode(), raw, hashlib.sha256).hexdigest()


def deliver_webhook(payload: dict[str, Any] | bytes) -> Any:
    """Posts, asserts the 200, processes; returns the WebhookEvent after processing."""
    from aerostic.core.tenant_context import platform_context
    from whatsapp.jobs import process_webhook_event
    from whatsapp.models import WebhookEvent

    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    response = Client().post(
        "/webhooks/meta/", raw, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=meta_signature(raw)
    )
    assert response.status_code == 200, response.content
    with platform_context("test: the stored event"):
        event = WebhookEvent.all_tenants.order_by("-id").first()
    assert event is not None, "the webhook stored no event"
    process_webhook_event(event_id=event.pk)
    with platform_context("test: the processed event"):
        return WebhookEvent.all_tenants.get(pk=event.pk)
