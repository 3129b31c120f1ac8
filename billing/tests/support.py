"""Helpers for billing tests: the shipped pricing data, status webhooks shaped like Meta's (as in
its documentation's examples), small CSV files written on the fly."""

from __future__ import annotations

import time
from datetime import datetime
from io import StringIO
from pathlib import Path
from typing import Any

from django.core.management import call_command

from aerostic.testsupport.webhooks import deliver_webhook

INDIA = "919812345621"  # +91 98123 45621
US = "16505551234"
BRAZIL = "5511987654321"
HONG_KONG = "85291234567"
CARD_HEADER = "effective_date,pricing_model,currency,market,category,rate"


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_pricing", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def write_csv(folder: Path, name: str, lines: list[str]) -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + "\n")
    return path


def status(
    wamid: str,
    name: str = "delivered",
    *,
    recipient: str = INDIA,
    at: datetime | None = None,
    category: str | None = "marketing",
    model: str = "PMP",
    pricing_type: str | None = "regular",
    billable: bool | None = None,
    conversation: dict[str, Any] | None = None,
    callback: str = "",
) -> dict[str, Any]:
    """One status item; `category=None` leaves out the pricing object (as Meta's v24 `sent` example)."""
    item: dict[str, Any] = {
        "id": wamid,
        "status": name,
        "timestamp": str(int(at.timestamp() if at else time.time())),
        "recipient_id": recipient,
    }
    if category is not None:
        item["pricing"] = {"pricing_model": model, "category": category}
        if pricing_type is not None:
            item["pricing"]["type"] = pricing_type
        if billable is not None:
            item["pricing"]["billable"] = billable
    if conversation is not None:
        item["conversation"] = conversation
    if callback:
        item["biz_opaque_callback_data"] = callback
    return item


def conversation(conversation_id: str, origin: str = "marketing") -> dict[str, Any]:
    """A status's `conversation` object (per-conversation pricing, before 2025-07-01)."""
    return {"id": conversation_id, "origin": {"type": origin}, "expiration_timestamp": "1750116480"}


def deliver_statuses(phone: Any, *statuses: dict[str, Any]) -> Any:
    """Signs, posts and processes one `messages` webhook with these statuses (as the worker would)."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": "".join(ch for ch in phone.display_phone_number if ch.isdigit()),
            "phone_number_id": phone.phone_number_id,
        },
        "statuses": list(statuses),
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "0", "changes": [{"field": "messages", "value": value}]}],
    }
    event = deliver_webhook(payload)
    assert event.status == "processed", (event.last_error, event.outcome)
    return event
