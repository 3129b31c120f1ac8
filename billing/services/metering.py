"""Metering Meta's status webhooks into the ledger, keeping what cannot be priced (with the reason),
and re-pricing it once the missing card is loaded.

Exactly once: every charge has a reference unique per tenant (`message:<wamid>` per message,
`conversation:<id>` per conversation) and is inserted with ON CONFLICT DO NOTHING; the usage counter
and a prepaid balance move only when that insert returned a row, in the same transaction. So
re-delivered webhooks, and sent + delivered + read each carrying `pricing`, charge once.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from aerostic.core import audit
from billing import pricing
from billing.cycles import cycle_start
from billing.models import LedgerEntry, PricingModel, PricingType, UnpricedUsage, UsageCounter
from billing.services.ledger import balance_move, counter_add, counter_value, ledger_insert
from billing.services.profiles import billing_profile_ensure
from tenants.context import require_tenant_id, tenant_context

logger = logging.getLogger(__name__)

Kind = LedgerEntry.Kind
Reason = UnpricedUsage.Reason

# Per-message pricing charges delivered messages; `read` implies delivered (statuses may arrive out
# of order, or the delivered one may be lost). A `sent` status may carry `pricing` too (Meta's
# samples do): it is not a charge yet.
BILLABLE_STATUSES = {"delivered", "read"}


@dataclass(frozen=True)
class _Usage:
    """What a status says about usage, read once from the payload."""

    wamid: str
    status: str
    at: datetime
    pricing: dict[str, Any]
    conversation: dict[str, Any]
    country: str
    campaign_id: int | None
    phone_number_id: int | None


def usage_record_from_status(*, status: dict[str, Any], phone: Any) -> str:
    """Meters one status of a message sent from `phone` (inside the tenant's context, from the
    webhook's status loop). Returns what happened: "charged", "free", "duplicate" (already on the
    ledger), "unpriced" (kept with the reason in UnpricedUsage), or "ignored" (not a billing event).

    Never raises for what Meta sends: a bug in pricing is logged and recorded as unpriced ("error"),
    so statuses keep flowing to the inbox and campaigns; database errors do raise (the webhook job
    retries the whole event, and the unique references make the retry charge nothing twice)."""
    wamid, name = str(status.get("id") or ""), str(status.get("status") or "").lower()
    if not wamid or name not in BILLABLE_STATUSES:
        return "ignored"
    pricing_info = status.get("pricing") if isinstance(status.get("pricing"), dict) else {}
    if not pricing_info and name != "delivered":
        return "ignored"  # the delivered status carries the bill; a bare read adds nothing
    try:
        with transaction.atomic():
            usage = _usage_of(status, phone, wamid, name, pricing_info)
            return _meter(usage)
    except DatabaseError:
        raise
    except Exception as error:
        logger.exception("billing: pricing a status failed", extra={"wamid": wamid})
        with transaction.atomic():
            usage = _Usage(
                wamid=wamid,
                status=name,
                at=_status_time(status),
                pricing=pricing_info,
                conversation={},
                country="",
                campaign_id=None,
                phone_number_id=getattr(phone, "pk", None),
            )
            _unpriced(usage, f"message:{wamid}", pricing.Unpriced(Reason.ERROR, type(error).__name__))
        return "unpriced"


def _status_time(status: dict[str, Any]) -> datetime:
    from whatsapp.webhooks.values import meta_time

    return meta_time(status.get("timestamp")) or timezone.now()


def _usage_of(status: dict[str, Any], phone: Any, wamid: str, name: str, pricing_info: dict[str, Any]) -> _Usage:
    campaign_id, contact_country = _campaign_of(status, wamid)
    conversation = status.get("conversation") if isinstance(status.get("conversation"), dict) else {}
    return _Usage(
        wamid=wamid,
        status=name,
        at=_status_time(status),
        pricing=pricing_info,
        conversation=conversation,
        country=_country_of(status.get("recipient_id")) or contact_country,
        campaign_id=campaign_id,
        phone_number_id=getattr(phone, "pk", None),
    )


def _country_of(recipient_id: Any) -> str:
    from contacts.phones import InvalidPhoneNumber, normalize

    digits = "".join(ch for ch in str(recipient_id or "") if ch.isdigit())
    if not digits:
        return ""
    try:
        return normalize("+" + digits).country
    except InvalidPhoneNumber:
        return ""


def _campaign_of(status: dict[str, Any], wamid: str) -> tuple[int | None, str]:
    """(campaign id, the contact's country) when the status is for a campaign message."""
    from campaigns.engine import CALLBACK_PREFIX
    from campaigns.models import CampaignMessage

    data = str(status.get("biz_opaque_callback_data") or "")
    key = data[len(CALLBACK_PREFIX) :] if data.startswith(CALLBACK_PREFIX) else ""
    rows = CampaignMessage.objects.filter(pk=int(key)) if key.isdigit() else CampaignMessage.objects.filter(wamid=wamid)
    row = rows.values("campaign_id", "contact__country").first()
    if row is None:
        return None, ""
    return row["campaign_id"], (row["contact__country"] or "")


def _meta_type(pricing_info: dict[str, Any], conversation: dict[str, Any]) -> str | None:
    """Meta's word on whether it charged: `type` (current API), else the deprecated `billable`."""
    declared = str(pricing_info.get("type") or "").strip().lower()
    if declared:
        return declared
    billable = pricing_info.get("billable")
    if billable is True:
        return PricingType.REGULAR
    if billable is False:
        origin = str(((conversation.get("origin") or {}) if isinstance(conversation, dict) else {}).get("type") or "")
        category = str(pricing_info.get("category") or "").lower()
        if pricing.ENTRY_POINT_CATEGORY in (category, origin.lower()):
            return PricingType.FREE_ENTRY_POINT
        model = pricing.WEBHOOK_MODELS.get(str(pricing_info.get("pricing_model") or "").upper())
        if model == PricingModel.PER_CONVERSATION and category == "service":
            return PricingType.FREE_TIER
        return PricingType.FREE_CUSTOMER_SERVICE
    return None


def _meter(usage: _Usage) -> str:
    if not usage.pricing:
        return _unpriced(usage, f"message:{usage.wamid}", pricing.Unpriced(Reason.NO_PRICING, "No pricing object"))
    raw_model = str(usage.pricing.get("pricing_model") or "").upper()
    model = pricing.WEBHOOK_MODELS.get(raw_model) if raw_model else pricing.model_in_force(usage.at)
    if model is None:
        detail = f"Meta's pricing model {raw_model!r} is unknown"
        return _unpriced(usage, f"message:{usage.wamid}", pricing.Unpriced(Reason.UNKNOWN_MODEL, detail))
    origin = (usage.conversation.get("origin") or {}) if isinstance(usage.conversation.get("origin"), dict) else {}
    category = str(usage.pricing.get("category") or origin.get("type") or "")
    if model == PricingModel.PER_CONVERSATION:
        conversation_id = str(usage.conversation.get("id") or "")
        if not conversation_id:
            detail = "Per-conversation pricing without a conversation id"
            return _unpriced(usage, f"message:{usage.wamid}", pricing.Unpriced(Reason.NO_CONVERSATION, detail))
        reference = f"conversation:{conversation_id}"[:255]
    else:
        reference = f"message:{usage.wamid}"[:255]
    if LedgerEntry.objects.filter(reference=reference).exists():
        return "duplicate"  # the common re-delivery: no pricing work; the insert below still guards races

    profile = billing_profile_ensure(tenant=require_tenant_id())
    cycle = cycle_start(profile.cycle_day, usage.at)
    used = 0
    if model == PricingModel.PER_CONVERSATION and pricing.category_of(category) == "SERVICE":
        used = counter_value(cycle, UsageCounter.Kind.CONVERSATIONS, "SERVICE")
    result = pricing.price_message(
        currency=profile.currency,
        country=usage.country,
        category=category,
        at=usage.at,
        pricing_model=model,
        meta_type=_meta_type(usage.pricing, usage.conversation),
        service_conversations_used=used,
    )
    if isinstance(result, pricing.Unpriced):
        return _unpriced(usage, reference, result)
    entry_id = ledger_insert(
        profile=profile,
        kind=Kind.DEBIT,
        amount_micros=-result.amount_micros,
        reference=reference,
        wamid=usage.wamid,
        category=result.category,
        market=result.market,
        country=usage.country,
        pricing_model=result.pricing_model,
        pricing_type=result.pricing_type,
        rate_id=result.rate.pk if result.rate else None,
        cycle=cycle,
        at=usage.at,
        campaign_id=usage.campaign_id,
        phone_number_id=usage.phone_number_id,
        description=_describe(result),
    )
    if entry_id is None:
        return "duplicate"
    counter_kind = (
        UsageCounter.Kind.CONVERSATIONS if model == PricingModel.PER_CONVERSATION else UsageCounter.Kind.MESSAGES
    )
    counter_add(cycle, counter_kind, result.category, count=1, free=int(result.is_free), amount=result.amount_micros)
    if result.amount_micros:
        balance_move(profile, -result.amount_micros)
    UnpricedUsage.objects.filter(Q(wamid=usage.wamid) | Q(reference=reference), resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )
    return "free" if result.is_free else "charged"


def _describe(result: pricing.Priced) -> str:
    what = "conversation" if result.pricing_model == PricingModel.PER_CONVERSATION else "message"
    category = (result.category or "entry point").replace("_", " ").lower()
    where = f" to {result.market}" if result.market else ""
    if result.is_free:
        return f"{category.capitalize()} {what}{where}: {PricingType(result.pricing_type).label.lower()}"[:255]
    return f"{category.capitalize()} {what}{where} ({result.card})"[:255]


_UNPRICED_SQL = """
INSERT INTO billing_unpricedusage (tenant_id, reference, wamid, status, reason, detail, pricing, conversation,
    country, campaign_id, phone_number_id, occurred_at, created_at)
VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s, %s, now())
ON CONFLICT (tenant_id, reference) DO UPDATE SET
    reason = EXCLUDED.reason, detail = EXCLUDED.detail, status = EXCLUDED.status,
    pricing = CASE WHEN EXCLUDED.pricing = '{}'::jsonb THEN billing_unpricedusage.pricing ELSE EXCLUDED.pricing END,
    conversation = CASE WHEN EXCLUDED.conversation = '{}'::jsonb
        THEN billing_unpricedusage.conversation ELSE EXCLUDED.conversation END,
    country = COALESCE(NULLIF(EXCLUDED.country, ''), billing_unpricedusage.country)
WHERE billing_unpricedusage.resolved_at IS NULL
"""


def _unpriced(usage: _Usage, reference: str, result: pricing.Unpriced) -> str:
    """Keeps the status with the reason (one row per reference; a later status updates the reason)."""
    if LedgerEntry.objects.filter(wamid=usage.wamid).exists():
        return "duplicate"  # a later status without pricing for a message already charged
    with connection.cursor() as cursor:
        cursor.execute(
            _UNPRICED_SQL,
            [
                require_tenant_id(),
                reference,
                usage.wamid[:255],
                usage.status[:16],
                result.code,
                result.detail[:255],
                json.dumps(usage.pricing),
                json.dumps(usage.conversation),
                usage.country,
                usage.campaign_id,
                usage.phone_number_id,
                usage.at,
            ],
        )
    logger.info("billing: unpriced usage", extra={"reason": result.code})
    return "unpriced"


# --- re-pricing


def unpriced_usage_reprice(*, tenant: Any, actor: Any = None, request: Any = None) -> dict[str, int]:
    """Prices again what is still unpriced (after the missing card or markets were loaded): each row
    goes through the same metering as a fresh status, so it is charged at most once. Returns counts
    by outcome."""
    tenant_id = getattr(tenant, "pk", tenant)
    outcomes: dict[str, int] = {}
    with tenant_context(tenant_id), transaction.atomic():
        rows = list(UnpricedUsage.objects.filter(resolved_at__isnull=True).order_by("occurred_at", "pk"))
        for row in rows:
            usage = _Usage(
                wamid=row.wamid,
                status=row.status,
                at=row.occurred_at,
                pricing=row.pricing or {},
                conversation=row.conversation or {},
                country=row.country,
                campaign_id=row.campaign_id,
                phone_number_id=row.phone_number_id,
            )
            with transaction.atomic():
                outcome = _meter(usage)
            if outcome == "duplicate":
                UnpricedUsage.objects.filter(pk=row.pk).update(resolved_at=timezone.now())
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if rows:
            audit.record("billing.unpriced_reprice", actor=actor, tenant=tenant_id, request=request, metadata=outcomes)
    return outcomes
