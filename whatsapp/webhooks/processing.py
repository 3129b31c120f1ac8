"""Processing one stored webhook: walk every entry and every change, route each to its tenant,
dispatch by `field`. Unknown numbers and fields are recorded as ignored with the reason, never errors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tenants.context import tenant_context
from whatsapp.models import PhoneNumber, WhatsAppAccount
from whatsapp.webhooks import handlers


@dataclass
class Route:
    tenant_id: int | None
    account: WhatsAppAccount | None
    phone: PhoneNumber | None


def route(entry_id: str, value: dict[str, Any]) -> Route:
    """phone_number_id from the metadata first (messages, statuses), else the entry id as a WABA id.
    Runs in the platform scope (called by the job), reading ids only."""
    phone_number_id = str((value.get("metadata") or {}).get("phone_number_id") or "")
    if phone_number_id:
        phone = (
            PhoneNumber.all_tenants.select_related("account")
            .filter(phone_number_id=phone_number_id, is_active=True)
            .first()
        )
        if phone is not None:
            return Route(phone.tenant_id, phone.account, phone)
    account = (
        WhatsAppAccount.all_tenants.filter(waba_id=str(entry_id))
        .exclude(status=WhatsAppAccount.Status.DISCONNECTED)
        .first()
    )
    if account is not None:
        return Route(account.tenant_id, account, None)
    return Route(None, None, None)


def process_payload(body: str) -> tuple[int | None, list[dict[str, Any]]]:
    """Returns (the tenant the event belongs to, or None; one outcome per change)."""
    payload = json.loads(body)
    outcomes: list[dict[str, Any]] = []
    tenants: set[int] = set()
    if payload.get("object") not in (None, "whatsapp_business_account"):
        return None, [{"field": "", "result": "ignored", "reason": f"object {payload.get('object')!r} is not ours"}]
    for entry in payload.get("entry") or []:
        if not isinstance(entry, dict):
            outcomes.append({"field": "", "result": "ignored", "reason": "entry is not an object"})
            continue
        changes = entry.get("changes") or []
        if not isinstance(changes, list):
            outcomes.append({"field": "", "result": "ignored", "reason": "changes is not a list"})
            continue
        for change in changes:
            if not isinstance(change, dict):
                outcomes.append({"field": "", "result": "ignored", "reason": "change is not an object"})
                continue
            field = str(change.get("field") or entry.get("field") or "")
            value = change.get("value") if isinstance(change.get("value"), dict) else {}
            outcomes.append(_process_change(str(entry.get("id", "")), field, value, tenants))
    return (tenants.pop() if len(tenants) == 1 else None), outcomes


def _process_change(entry_id: str, field: str, value: dict[str, Any], tenants: set[int]) -> dict[str, Any]:
    platform_handler = handlers.PLATFORM_HANDLERS.get((field, str(value.get("event", ""))))
    if platform_handler is not None:
        return {"field": field, **platform_handler(entry_id, value)}
    target = route(entry_id, value)
    if target.tenant_id is None:
        return {"field": field, "result": "ignored", "reason": "unknown phone number / WABA"}
    tenants.add(target.tenant_id)
    handler = handlers.TENANT_HANDLERS.get(field)
    if handler is None:
        reason = handlers.NOT_YET_HANDLED.get(field, f"field {field!r} is not handled")
        return {"field": field, "tenant": target.tenant_id, "result": "ignored", "reason": reason}
    with tenant_context(target.tenant_id):
        return {"field": field, "tenant": target.tenant_id, **handler(target, value)}
