"""The metering of a batch: usages decided in order in memory, against what the ledger held when the
batch began plus what the batch has decided so far, then written together in a fixed number of
statements (the ledger rows, each counter and the balance once, the unpriced rows, their resolution).

Exactly once: every charge has a reference unique per tenant (`message:<wamid>` per message,
`conversation:<id>` per conversation) and is inserted with ON CONFLICT DO NOTHING; the usage counters
and a prepaid balance move only by what that insert returned, in the same transaction. So
re-delivered webhooks, and sent + delivered + read each carrying `pricing`, charge once.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from django.db import DatabaseError
from django.utils import timezone

from aerostic.core.sqlrows import bound_cursor
from aerostic.core.tenant_context import require_tenant_id
from billing import pricing
from billing.cycles import cycle_start
from billing.models import BillingProfile, LedgerEntry, PricingModel, PricingType, UnpricedUsage, UsageCounter
from billing.services.ledger import Entry, balance_move, counter_values, counters_add, ledger_insert_many
from billing.services.profiles import billing_profile_ensure

logger = logging.getLogger(__name__)

Kind = LedgerEntry.Kind
Reason = UnpricedUsage.Reason
Counter = UsageCounter.Kind


@dataclass(frozen=True)
class Usage:
    """What a status says about usage, read once from the payload (or from an UnpricedUsage row)."""

    wamid: str
    status: str
    at: datetime
    pricing: dict[str, Any]
    conversation: dict[str, Any]
    country: str
    campaign_id: int | None
    phone_number_id: int | None
    failure: str = ""  # reading the status raised this exception: kept as unpriced ("error")


def _message_reference(wamid: str) -> str:
    return f"message:{wamid}"[:255]


@dataclass(frozen=True)
class _Terms:
    """How a status is charged: the pricing model, Meta's category and the ledger reference."""

    model: str
    category: str
    reference: str


def _terms_of(usage: Usage) -> _Terms | pricing.Unpriced:
    if not usage.pricing:
        return pricing.Unpriced(Reason.NO_PRICING, "No pricing object")
    raw_model = str(usage.pricing.get("pricing_model") or "").upper()
    model = pricing.WEBHOOK_MODELS.get(raw_model) if raw_model else pricing.model_in_force(usage.at)
    if model is None:
        return pricing.Unpriced(Reason.UNKNOWN_MODEL, f"Meta's pricing model {raw_model!r} is unknown")
    origin = (usage.conversation.get("origin") or {}) if isinstance(usage.conversation.get("origin"), dict) else {}
    category = str(usage.pricing.get("category") or origin.get("type") or "")
    if model != PricingModel.PER_CONVERSATION:
        return _Terms(model, category, _message_reference(usage.wamid))
    conversation_id = str(usage.conversation.get("id") or "")
    if not conversation_id:
        return pricing.Unpriced(Reason.NO_CONVERSATION, "Per-conversation pricing without a conversation id")
    return _Terms(model, category, f"conversation:{conversation_id}"[:255])


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


def _describe(result: pricing.Priced) -> str:
    what = "conversation" if result.pricing_model == PricingModel.PER_CONVERSATION else "message"
    category = (result.category or "entry point").replace("_", " ").lower()
    where = f" to {result.market}" if result.market else ""
    if result.is_free:
        return f"{category.capitalize()} {what}{where}: {PricingType(result.pricing_type).label.lower()}"[:255]
    return f"{category.capitalize()} {what}{where} ({result.card})"[:255]


@dataclass
class _Charge:
    position: int
    entry: Entry
    counter: tuple[date, str, str, int, int, int]  # cycle, kind, category, count, free, amount


@dataclass
class _UnpricedRow:
    """What one reference's upserts in this call leave: the first one inserts, the later ones update
    (the reason; Meta's objects and the country only when they say something)."""

    reference: str
    usage: Usage
    code: str
    detail: str

    def then(self, usage: Usage, result: pricing.Unpriced) -> None:
        first = self.usage
        self.usage = replace(
            first,
            status=usage.status,
            pricing=usage.pricing or first.pricing,
            conversation=usage.conversation or first.conversation,
            country=usage.country or first.country,
        )
        self.code, self.detail = result.code, result.detail


# Arrays rather than IN lists: one parameter however many usages (hundreds of placeholders cost more
# to build and bind than the query takes); `wamid <> ''` spelled out lets Postgres use the partial
# wamid index for any length of list. References and wamids are looked up apart, each through its
# own index: one `reference = ANY(…) OR wamid = ANY(…)` filter made Postgres walk the tenant's
# whole ledger testing both lists on every row.
_READ_SQL = """
SELECT 'ledger', reference, wamid FROM billing_ledgerentry
WHERE tenant_id = %s AND reference = ANY(%s::text[])
UNION
SELECT 'ledger', reference, wamid FROM billing_ledgerentry
WHERE tenant_id = %s AND wamid = ANY(%s::text[]) AND wamid <> ''
UNION ALL
SELECT 'unpriced', reference, wamid FROM billing_unpricedusage
WHERE tenant_id = %s AND resolved_at IS NULL AND reference = ANY(%s::text[])
"""
_RESOLVE_SQL = """
UPDATE billing_unpricedusage SET resolved_at = %s
WHERE tenant_id = %s AND resolved_at IS NULL AND (wamid = ANY(%s::text[]) OR reference = ANY(%s::text[]))
"""


class Metering:
    """One batch. Its usages are decided in order against the state read once (ledger references
    and wamids, open unpriced rows, the profile, the service conversations counted), which the batch
    keeps up to date as it decides; `run` then writes the decisions together and returns them."""

    def __init__(self, usages: list[Usage], *, errors_raise: bool = False) -> None:
        self.usages = usages
        self.errors_raise = errors_raise  # re-pricing stored rows: a bug there is the operator's to see
        self.book = pricing.PriceBook()
        self.references: set[str] = set()  # on the ledger, or charged earlier in this call
        self.ledger_wamids: set[str] = set()
        self.open: dict[str, str] = {}  # unresolved unpriced reference → its wamid
        self.open_by_wamid: dict[str, set[str]] = {}
        self.closed: set[str] = set()  # unpriced references a charge of this call resolves
        self.charges: list[_Charge] = []
        self.unpriced: dict[str, _UnpricedRow] = {}
        self.counted: dict[tuple[date, str, str], int] = {}
        self._profile: BillingProfile | None = None
        self._service_counted: dict[date, int] | None = None
        self._descriptions: dict[tuple, str] = {}  # a batch's charges share a few rates

    def run(self) -> list[str]:
        self._read()
        outcomes = [self._decide(position, usage) for position, usage in enumerate(self.usages)]
        self._write(outcomes)
        return outcomes

    def _read(self) -> None:
        """The ledger rows and open unpriced rows any of the usages could meet, in one query."""
        references, wamids = set(), set()
        for usage in self.usages:
            wamids.add(usage.wamid)
            references.add(_message_reference(usage.wamid))
            try:
                terms = _terms_of(usage)
            except Exception:  # noqa: S112 - met again in _decide, which records it
                continue
            if isinstance(terms, _Terms):
                references.add(terms.reference)
        with bound_cursor() as cursor:
            tenant_id = require_tenant_id()
            references_list = list(references)
            cursor.execute(
                _READ_SQL,
                [tenant_id, references_list, tenant_id, list(wamids), tenant_id, references_list],
            )
            rows = cursor.fetchall()
        for table, reference, wamid in rows:
            if table == "ledger":
                self.references.add(reference)
                self.ledger_wamids.add(wamid)
            else:
                self._opened(reference, wamid)

    def _description(self, result: pricing.Priced) -> str:
        key = (result.pricing_model, result.category, result.market, result.pricing_type, result.is_free, result.card)
        if key not in self._descriptions:
            self._descriptions[key] = _describe(result)
        return self._descriptions[key]

    def _opened(self, reference: str, wamid: str) -> None:
        self.open[reference] = wamid
        self.open_by_wamid.setdefault(wamid, set()).add(reference)

    def _decide(self, position: int, usage: Usage) -> str:
        if usage.failure:
            return self._unpriced(usage, _message_reference(usage.wamid), pricing.Unpriced(Reason.ERROR, usage.failure))
        try:
            return self._meter(position, usage)
        except DatabaseError:
            raise
        except Exception as error:
            if self.errors_raise:
                raise
            logger.exception("billing: pricing a status failed", extra={"wamid": usage.wamid})
            failed = replace(usage, conversation={}, country="", campaign_id=None)
            detail = type(error).__name__
            return self._unpriced(failed, _message_reference(usage.wamid), pricing.Unpriced(Reason.ERROR, detail))

    def _meter(self, position: int, usage: Usage) -> str:
        terms = _terms_of(usage)
        if isinstance(terms, pricing.Unpriced):
            return self._unpriced(usage, _message_reference(usage.wamid), terms)
        if terms.reference in self.references:
            return "duplicate"  # the common re-delivery: no pricing work; the insert still guards races
        profile = self._profile_get()
        cycle = cycle_start(profile.cycle_day, usage.at)
        used = 0
        if terms.model == PricingModel.PER_CONVERSATION and pricing.category_of(terms.category) == "SERVICE":
            used = self._service_conversations(cycle)
        result = pricing.price_message(
            currency=profile.currency,
            country=usage.country,
            category=terms.category,
            at=usage.at,
            pricing_model=terms.model,
            meta_type=_meta_type(usage.pricing, usage.conversation),
            service_conversations_used=used,
            book=self.book,
        )
        if isinstance(result, pricing.Unpriced):
            return self._unpriced(usage, terms.reference, result)
        kind = Counter.CONVERSATIONS if terms.model == PricingModel.PER_CONVERSATION else Counter.MESSAGES
        entry = Entry(
            kind=Kind.DEBIT,
            amount_micros=-result.amount_micros,
            reference=terms.reference,
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
            description=self._description(result),
        )
        # Decided: from here on the call's state moves as the rows will (nothing below can raise).
        counter = (cycle, kind, result.category, 1, int(result.is_free), result.amount_micros)
        self.charges.append(_Charge(position=position, entry=entry, counter=counter))
        self.references.add(terms.reference)
        self.ledger_wamids.add(usage.wamid[:255])
        self.counted[(cycle, kind, result.category)] = self.counted.get((cycle, kind, result.category), 0) + 1
        # The charge resolves the unpriced rows of its message or reference (later upserts to them
        # change nothing: they are no longer open).
        if terms.reference in self.open:
            self.closed.add(terms.reference)
        self.closed.update(self.open_by_wamid.get(usage.wamid, ()))
        return "free" if result.is_free else "charged"

    def _profile_get(self) -> BillingProfile:
        if self._profile is None:
            self._profile = billing_profile_ensure(tenant=require_tenant_id())
        return self._profile

    def _service_conversations(self, cycle: date) -> int:
        """Service conversations counted in the cycle: read once for every cycle of the call, plus
        those this call has charged so far (the monthly free allowance)."""
        if self._service_counted is None:
            cycle_day = self._profile_get().cycle_day
            cycles = {cycle_start(cycle_day, usage.at) for usage in self.usages}
            self._service_counted = counter_values(cycles, Counter.CONVERSATIONS, "SERVICE")
        return self._service_counted.get(cycle, 0) + self.counted.get((cycle, Counter.CONVERSATIONS, "SERVICE"), 0)

    def _unpriced(self, usage: Usage, reference: str, result: pricing.Unpriced) -> str:
        """Keeps the status with the reason (one row per reference; a later status updates the reason)."""
        if usage.wamid in self.ledger_wamids:
            return "duplicate"  # a later status without pricing for a message already charged
        if reference in self.closed:
            return "unpriced"  # resolved by a charge earlier in this call: the upsert would change nothing
        row = self.unpriced.get(reference)
        if row is None:
            self.unpriced[reference] = _UnpricedRow(reference, usage, result.code, result.detail)
            if reference not in self.open:
                self._opened(reference, usage.wamid[:255])
        else:
            row.then(usage, result)
        return "unpriced"

    def _write(self, outcomes: list[str]) -> None:
        written = []
        if self.charges:
            inserted = ledger_insert_many(profile=self._profile_get(), entries=[c.entry for c in self.charges])
            for charge in self.charges:
                if charge.entry.reference in inserted:
                    written.append(charge)
                else:
                    outcomes[charge.position] = "duplicate"  # a concurrent transaction charged it first
        counters_add(charge.counter for charge in written)
        spent = sum(-charge.entry.amount_micros for charge in written)
        if spent:
            balance_move(self._profile_get(), -spent)
        if self.unpriced:
            _unpriced_upsert(list(self.unpriced.values()))
            reasons: dict[str, int] = {}
            for row in self.unpriced.values():
                reasons[row.code] = reasons.get(row.code, 0) + 1
            logger.info("billing: unpriced usage", extra={"reasons": reasons})
        if written:
            wamids = list({charge.entry.wamid for charge in written})
            references = list({charge.entry.reference for charge in written})
            with bound_cursor() as cursor:
                cursor.execute(_RESOLVE_SQL, [timezone.now(), require_tenant_id(), wamids, references])


_UNPRICED_SQL = """
INSERT INTO billing_unpricedusage (tenant_id, reference, wamid, status, reason, detail, pricing, conversation,
    country, campaign_id, phone_number_id, occurred_at, created_at)
SELECT %s, v.*, now() FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::jsonb[],
    %s::jsonb[], %s::text[], %s::bigint[], %s::bigint[], %s::timestamptz[]) AS v
ON CONFLICT (tenant_id, reference) DO UPDATE SET
    reason = EXCLUDED.reason, detail = EXCLUDED.detail, status = EXCLUDED.status,
    pricing = CASE WHEN EXCLUDED.pricing = '{}'::jsonb THEN billing_unpricedusage.pricing ELSE EXCLUDED.pricing END,
    conversation = CASE WHEN EXCLUDED.conversation = '{}'::jsonb
        THEN billing_unpricedusage.conversation ELSE EXCLUDED.conversation END,
    country = COALESCE(NULLIF(EXCLUDED.country, ''), billing_unpricedusage.country)
WHERE billing_unpricedusage.resolved_at IS NULL
"""


def _unpriced_upsert(rows: list[_UnpricedRow]) -> None:
    """One statement for every unpriced reference of the call (each once: see _UnpricedRow)."""
    usages = [row.usage for row in rows]
    columns: list[list[Any]] = [
        [row.reference for row in rows],
        [usage.wamid[:255] for usage in usages],
        [usage.status[:16] for usage in usages],
        [row.code for row in rows],
        [row.detail[:255] for row in rows],
        [json.dumps(usage.pricing) for usage in usages],
        [json.dumps(usage.conversation) for usage in usages],
        [usage.country for usage in usages],
        [usage.campaign_id for usage in usages],
        [usage.phone_number_id for usage in usages],
        [usage.at for usage in usages],
    ]
    with bound_cursor() as cursor:
        cursor.execute(_UNPRICED_SQL, [require_tenant_id(), *columns])
