"""Processing stored webhooks: walk every entry and every change, route each to its tenant,
dispatch by `field`. Unknown numbers and fields are recorded as ignored with the reason, never errors.

A batch of deliveries is processed together (`process_payloads`): routes are looked up once per
number or WABA, and every `messages` change (inbound messages and statuses, nearly all of Meta's
traffic) is gathered per number and applied once for the batch (`handlers.messages_apply`), so a
batch of 500 deliveries costs a few statements per kind instead of a dozen per status. The rarer
kinds (templates, quality, account updates…) run change by change, as they arrive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aerostic.core.tenant_context import tenant_context
from whatsapp.models import PhoneNumber, WhatsAppAccount
from whatsapp.webhooks import handlers


@dataclass
class Route:
    tenant_id: int | None
    account: WhatsAppAccount | None
    phone: PhoneNumber | None


@dataclass
class Router:
    """Routes of one batch: phone_number_id from the metadata first (messages, statuses), else the
    entry id as a WABA id. Each id is looked up once per batch. Runs in the platform scope (the
    drainer's), reading ids only."""

    phones: dict[str, PhoneNumber | None] = field(default_factory=dict)
    accounts: dict[str, WhatsAppAccount | None] = field(default_factory=dict)

    def route(self, entry_id: str, value: dict[str, Any]) -> Route:
        phone_number_id = str((value.get("metadata") or {}).get("phone_number_id") or "")
        if phone_number_id:
            if phone_number_id not in self.phones:
                self.phones[phone_number_id] = (
                    PhoneNumber.all_tenants.select_related("account")
                    .filter(phone_number_id=phone_number_id, is_active=True)
                    .first()
                )
            phone = self.phones[phone_number_id]
            if phone is not None:
                return Route(phone.tenant_id, phone.account, phone)
        waba_id = str(entry_id)
        if waba_id not in self.accounts:
            self.accounts[waba_id] = (
                WhatsAppAccount.all_tenants.filter(waba_id=waba_id)
                .exclude(status=WhatsAppAccount.Status.DISCONNECTED)
                .first()
            )
        account = self.accounts[waba_id]
        if account is not None:
            return Route(account.tenant_id, account, None)
        return Route(None, None, None)


@dataclass
class _Batch:
    router: Router = field(default_factory=Router)
    # phone pk → (the number, its `messages` changes in arrival order)
    messages: dict[int, tuple[PhoneNumber, list[handlers.MessagesChange]]] = field(default_factory=dict)


def process_payload(payload: dict[str, Any]) -> tuple[int | None, list[dict[str, Any]]]:
    """`process_payloads` for one delivery."""
    return process_payloads([payload])[0]


def process_payloads(payloads: list[dict[str, Any]]) -> list[tuple[int | None, list[dict[str, Any]]]]:
    """Per delivery: (the tenant it belongs to, or None; one outcome per change). Runs inside the
    caller's transaction: the batch is applied entirely or not at all."""
    batch = _Batch()
    results: list[tuple[set[int], list[dict[str, Any]]]] = [_walk(payload, batch) for payload in payloads]
    for phone, changes in batch.messages.values():
        with tenant_context(phone.tenant_id):
            handlers.messages_apply(phone, changes)
    return [((tenants.pop() if len(tenants) == 1 else None), outcomes) for tenants, outcomes in results]


def _walk(payload: dict[str, Any], batch: _Batch) -> tuple[set[int], list[dict[str, Any]]]:
    outcomes: list[dict[str, Any]] = []
    tenants: set[int] = set()
    if payload.get("object") not in (None, "whatsapp_business_account"):
        return tenants, [{"field": "", "result": "ignored", "reason": f"object {payload.get('object')!r} is not ours"}]
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
            field_name = str(change.get("field") or entry.get("field") or "")
            raw_value = change.get("value")
            value: dict[str, Any] = raw_value if isinstance(raw_value, dict) else {}
            outcomes.append(_process_change(str(entry.get("id", "")), field_name, value, tenants, batch))
    return tenants, outcomes


def _process_change(
    entry_id: str, field_name: str, value: dict[str, Any], tenants: set[int], batch: _Batch
) -> dict[str, Any]:
    platform_handler = handlers.PLATFORM_HANDLERS.get((field_name, str(value.get("event", ""))))
    if platform_handler is not None:
        return {"field": field_name, **platform_handler(entry_id, value)}
    target = batch.router.route(entry_id, value)
    if target.tenant_id is None:
        return {"field": field_name, "result": "ignored", "reason": "unknown phone number / WABA"}
    tenants.add(target.tenant_id)
    if field_name == "messages" and target.phone is not None:
        # Deferred: applied with every other `messages` change of this number in the batch; the
        # outcome dict is the one stored, filled in by messages_apply.
        change = handlers.messages_collect(value)
        change.outcome.update({"field": field_name, "tenant": target.tenant_id})
        batch.messages.setdefault(target.phone.pk, (target.phone, []))[1].append(change)
        return change.outcome
    handler = handlers.TENANT_HANDLERS.get(field_name)
    if handler is None:
        reason = handlers.NOT_YET_HANDLED.get(field_name, f"field {field_name!r} is not handled")
        return {"field": field_name, "tenant": target.tenant_id, "result": "ignored", "reason": reason}
    with tenant_context(target.tenant_id):
        return {"field": field_name, "tenant": target.tenant_id, **handler(target, value)}
