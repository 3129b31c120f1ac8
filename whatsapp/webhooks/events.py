"""Reading a stored webhook's raw body outside processing: staff's audited reveal (Django admin)."""

from __future__ import annotations

import json
from typing import Any

from aerostic.core import audit
from whatsapp.models import WebhookEvent

VIEWED_ACTION = "webhooks.body_viewed"


def webhook_body_reveal(*, event: WebhookEvent, actor: Any, request: Any = None) -> str:
    """The decrypted raw JSON, pretty-printed, for platform staff; every reveal is audited (the
    attempt too: it is recorded before decrypting). Raises crypto.DecryptionError when no key of
    the ring opens it."""
    audit.record(
        VIEWED_ACTION,
        actor=actor,
        tenant=event.tenant_id,
        target=event,
        request=request,
        metadata={"status": event.status, "fields": list(event.fields)},
    )
    text = event.body.reveal()
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:  # a malformed body kept dead for inspection: shown as it came
        return text
