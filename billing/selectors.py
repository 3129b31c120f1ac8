"""Billing reads shared by the campaign page, the dashboard, the API and admin: estimates before a
launch, actual cost from the ledger, usage per cycle, the ledger, the rate card in force, and
whether a prepaid balance allows a launch. Everything runs in the current tenant's context (the
managers filter by it) except the rate card reads, which are platform data.

Amounts are integers in micro-units (`*_micros`) with the currency beside them; rates are decimal
strings exactly as on the card ("0.0118"). Estimates are stored on the campaign (a JSON field), so
they hold only JSON types.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from aerostic.core.money import format_money, from_micros, rate_text, round_to_micros
from aerostic.core.tenant_context import require_tenant_id
from billing import pricing
from billing.cycles import cycle_after, cycle_bounds, cycle_start
from billing.models import (
    BillingProfile,
    Category,
    LedgerEntry,
    PricingModel,
    RateCard,
    UnpricedUsage,
    UsageCounter,
)

Kind = LedgerEntry.Kind
UNKNOWN_COUNTRY = "?"  # what campaigns' launch check writes for contacts without a country


def billing_profile_get(tenant: Any = None) -> BillingProfile:
    """The tenant's profile, or an unsaved one with the defaults (reads never create it)."""
    tenant_id = getattr(tenant, "pk", tenant) or require_tenant_id()
    return BillingProfile.objects.filter(tenant_id=tenant_id).first() or BillingProfile(tenant_id=tenant_id)


def current_cycle(tenant: Any = None, at: datetime | None = None) -> date:
    """The first day of the tenant's billing cycle containing `at` (now)."""
    return cycle_start(billing_profile_get(tenant).cycle_day, at or timezone.now())


# --- rate cards (platform data)


def card_summary(card: RateCard) -> dict[str, Any]:
    return {
        "id": card.pk,
        "currency": card.currency,
        "pricing_model": card.pricing_model,
        "effective_from": card.effective_from.isoformat(),
        "is_partial": card.is_partial,
        "source": card.source,
        "retrieved": card.retrieved,
        "rules": pricing.rules_of(card),
    }


def rate_card_in_force(*, currency: str, at: datetime | None = None) -> dict[str, Any] | None:
    """The card that prices messages at `at` (now) in `currency`, with its rates by market, and the
    country → market structure in force (for the API's `/rate-card` and the dashboard)."""
    at = at or timezone.now()
    card = pricing.card_for(currency, at)
    if card is None:
        return None
    markets: dict[str, dict[str, str]] = defaultdict(dict)
    for rate in card.rates.all():
        markets[rate.market][rate.category] = rate_text(rate.price)
    structure = pricing.structure_for(at)
    countries: dict[str, list[str]] = defaultdict(list)
    if structure is not None:
        for code, market in structure.assignments.values_list("country_code", "market"):
            countries[market].append(code)
    return {
        **card_summary(card),
        "markets": [
            {"market": market, "rates": rates, "countries": countries.get(market, [])}
            for market, rates in sorted(markets.items())
        ],
        "markets_from": structure.effective_from.isoformat() if structure else None,
    }


def rate_card_list() -> QuerySet[RateCard]:
    return RateCard.objects.annotate(rate_count=Count("rates")).order_by("currency", "-effective_from")


# --- campaign estimate and actual cost


def _template_category(template: Any, at: datetime) -> str:
    """The category Meta will apply when the campaign sends (an announced re-categorisation counts)."""
    if template.pending_category and template.pending_category_at and template.pending_category_at <= at:
        return template.pending_category
    return template.category


def campaign_estimate(*, campaign: Any, by_country: dict[str, int], variants: list[Any]) -> dict[str, Any]:
    """What the campaign should cost, from the card in force when it sends: recipients per country ×
    the rate of their market for each variant's template category, weighted by the variants'
    percentages. The contract of `campaigns.costing.campaign_estimate` (stored on the campaign):

    {"status": "estimated", "currency", "total_micros", "total", "pricing_model", "at", "card": {...},
     "by_market": [{"market", "recipients", "amount_micros", "rates": {category: "0.0118"}}],
     "unpriced": [{"country", "market", "category", "recipients", "reason"}],
     "categories": {category: percentage}, "recipients_by_country", "assumptions": [...]}
    or {"status": "unknown", "reason", "recipients_by_country"} when no card or markets are loaded.

    An upper bound: utility templates to customers inside their service window, and anyone who came
    through a click-to-WhatsApp ad in the last 72 h, will cost nothing."""
    now = timezone.now()
    at = campaign.send_at if campaign.send_at and campaign.send_at > now else now
    profile = billing_profile_get(campaign.tenant_id)
    currency = profile.currency
    unknown = {"status": "unknown", "recipients_by_country": by_country}
    weights: dict[str, Decimal] = defaultdict(Decimal)
    for variant in variants:
        weights[_template_category(variant.template, at)] += Decimal(variant.percentage) / 100
    if not weights:
        return {**unknown, "reason": "Choose a template to see the cost."}
    card = pricing.card_for(currency, at)
    if card is None:
        return {
            **unknown,
            "reason": f"No {currency} rate card is in force on {at.date().isoformat()}, so the cost cannot be "
            "estimated (platform staff load one with manage.py seed_pricing).",
        }
    structure = pricing.structure_for(at)
    if structure is None:
        return {**unknown, "reason": f"No market structure is loaded for {at.date().isoformat()}."}
    rates = {(rate.market, rate.category): rate.price for rate in card.rates.all()}
    countries = dict(structure.assignments.values_list("country_code", "market"))
    rules = pricing.rules_of(card)
    by_market: dict[str, dict[str, Any]] = {}
    exact: dict[str, Decimal] = defaultdict(Decimal)
    unpriced: list[dict[str, Any]] = []
    for country, recipients in sorted(by_country.items()):
        if not recipients:
            continue
        code = (country or "").upper()
        if code in ("", UNKNOWN_COUNTRY):
            unpriced.append(
                {"country": country, "market": "", "category": "", "recipients": recipients, "reason": "no country"}
            )
            continue
        market = countries.get(code, pricing.OTHER_MARKET)
        priced = False
        for category, weight in weights.items():
            if category == Category.SERVICE and rules.get("service_free"):
                continue
            price = rates.get((market, category))
            if price is None:
                unpriced.append(
                    {
                        "country": code,
                        "market": market,
                        "category": category,
                        "recipients": recipients,
                        "share": str(weight),
                        "reason": f"no {category} rate for {market} on the card",
                    }
                )
                continue
            row = by_market.setdefault(market, {"market": market, "recipients": 0, "amount_micros": 0, "rates": {}})
            row["rates"][category] = rate_text(price)
            exact[market] += price * weight * recipients
            priced = True
        if priced:
            by_market[market]["recipients"] += recipients
    for market, amount in exact.items():
        by_market[market]["amount_micros"] = round_to_micros(amount)
    total = sum(row["amount_micros"] for row in by_market.values())
    assumptions = ["Each recipient receives the message (only delivered messages are charged)."]
    if Category.UTILITY in weights and rules.get("utility_free_in_service_window"):
        assumptions.append("Utility messages to customers who wrote in the last 24 hours are free: not deducted.")
    if card.pricing_model == PricingModel.PER_CONVERSATION:
        assumptions.append("One new conversation per recipient (an open one would not be charged again).")
    return {
        "status": "estimated",
        "currency": currency,
        "total_micros": total,
        "total": str(from_micros(total)),
        "pricing_model": card.pricing_model,
        "at": at.isoformat(),
        "card": card_summary(card),
        "markets_from": structure.effective_from.isoformat(),
        "by_market": sorted(by_market.values(), key=lambda row: (-row["amount_micros"], row["market"])),
        "unpriced": unpriced,
        "categories": {category: int(weight * 100) for category, weight in weights.items()},
        "recipients_by_country": by_country,
        "assumptions": assumptions,
    }


def campaign_actual(campaign: Any) -> dict[str, Any]:
    """What the campaign cost so far, from the ledger: its debits (delivered messages) by category,
    and how many of its delivered messages are still unpriced."""
    entries = LedgerEntry.objects.filter(campaign_id=campaign.pk, kind=Kind.DEBIT)
    totals = entries.aggregate(
        spent=Sum("amount_micros"), messages=Count("pk"), charged=Count("pk", filter=Q(amount_micros__lt=0))
    )
    by_category = {
        row["category"] or "": {"messages": row["messages"], "amount_micros": -(row["amount"] or 0)}
        for row in entries.values("category").annotate(messages=Count("pk"), amount=Sum("amount_micros"))
    }
    currencies = list(entries.values_list("currency", flat=True).distinct())
    spent = -(totals["spent"] or 0)
    return {
        "currency": currencies[0] if len(currencies) == 1 else billing_profile_get(campaign.tenant_id).currency,
        "total_micros": spent,
        "total": str(from_micros(spent)),
        "messages": totals["messages"],
        "charged_messages": totals["charged"],
        "free_messages": totals["messages"] - totals["charged"],
        "by_category": by_category,
        "unpriced_messages": UnpricedUsage.objects.filter(campaign_id=campaign.pk, resolved_at__isnull=True).count(),
    }


def campaign_cost(campaign: Any) -> dict[str, Any]:
    """Estimate (as stored at launch) and actual side by side, for the campaign page."""
    return {"estimate": campaign.estimate or {}, "actual": campaign_actual(campaign)}


# --- usage per cycle, the ledger


def usage_summary(*, cycle: date | None = None) -> dict[str, Any]:
    """One billing cycle of the current tenant for the dashboard: spend by category and by market,
    daily totals (every day of the cycle so far, zeros included), top campaigns by cost, the usage
    counters, AI usage per provider and model, credits and adjustments, what is unpriced, and the
    prepaid balance."""
    profile = billing_profile_get()
    cycle = cycle or cycle_start(profile.cycle_day, timezone.now())
    start, end = cycle_bounds(cycle)
    entries = LedgerEntry.objects.filter(billing_cycle=cycle)
    debits = entries.filter(kind=Kind.DEBIT)

    def spend_by(field: str, of: QuerySet[LedgerEntry] = debits) -> list[dict[str, Any]]:
        rows = of.values(field).annotate(amount=Sum("amount_micros"), count=Count("pk")).order_by("amount")
        return [{field: row[field], "amount_micros": -(row["amount"] or 0), "count": row["count"]} for row in rows]

    daily_rows = dict(
        debits.annotate(day=TruncDate("occurred_at", tzinfo=UTC))
        .values("day")
        .annotate(amount=Sum("amount_micros"))
        .values_list("day", "amount")
    )
    last_day = min(end, max(timezone.now(), start) + timedelta(days=1)).date()
    daily, day = [], start.date()
    while day < last_day:
        daily.append({"day": day.isoformat(), "amount_micros": -(daily_rows.get(day) or 0)})
        day += timedelta(days=1)
    top = (
        debits.filter(campaign__isnull=False)
        .values("campaign_id", "campaign__name")
        .annotate(amount=Sum("amount_micros"), count=Count("pk"))
        .order_by("amount", "campaign_id")[:10]
    )
    other_kinds = {
        row["kind"]: row["amount"] or 0
        for row in entries.exclude(kind=Kind.DEBIT).values("kind").annotate(amount=Sum("amount_micros"))
    }
    spent = -(debits.aggregate(amount=Sum("amount_micros"))["amount"] or 0)
    return {
        "currency": profile.currency,
        "cycle": cycle.isoformat(),
        "cycle_end": cycle_after(cycle).isoformat(),
        "spent_micros": spent,
        "by_category": spend_by("category"),
        "by_market": spend_by("market", debits.exclude(category=LedgerEntry.AI_CATEGORY)),  # AI has no market
        "daily": daily,
        "top_campaigns": [
            {
                "campaign_id": row["campaign_id"],
                "name": row["campaign__name"],
                "amount_micros": -(row["amount"] or 0),
                "messages": row["count"],
            }
            for row in top
        ],
        "counters": [
            {
                "kind": c.kind,
                "category": c.category,
                "count": c.count,
                "free": c.free_count,
                "amount_micros": c.amount_micros,
            }
            for c in UsageCounter.objects.filter(billing_cycle=cycle).order_by("kind", "category")
        ],
        "ai_usage": ai_usage(cycle=cycle),
        "credits_micros": other_kinds.get(Kind.CREDIT, 0),
        "adjustments_micros": other_kinds.get(Kind.ADJUSTMENT, 0),
        "unpriced": UnpricedUsage.objects.filter(
            resolved_at__isnull=True, occurred_at__gte=start, occurred_at__lt=end
        ).count(),
        "prepaid": profile.prepaid,
        "balance_micros": profile.balance_micros if profile.prepaid else None,
        "credit_limit_micros": profile.credit_limit_micros if profile.prepaid else None,
    }


_AI_COUNTERS: dict[str, str] = {
    UsageCounter.Kind.AI_REPLIES: "replies",
    UsageCounter.Kind.AI_PROMPT_TOKENS: "prompt_tokens",
    UsageCounter.Kind.AI_COMPLETION_TOKENS: "completion_tokens",
    UsageCounter.Kind.AI_TOKENS: "tokens",
}


def ai_usage(*, cycle: date) -> list[dict[str, Any]]:
    """The cycle's AI usage per provider and model, costliest first, from the AI usage counters:
    replies metered, prompt, completion and all tokens, and what they cost (`amount_micros`)."""
    rows: dict[str, dict[str, Any]] = {}
    for counter in UsageCounter.objects.filter(billing_cycle=cycle, kind__in=list(_AI_COUNTERS)):
        provider, _, model = counter.category.partition(":")
        row = rows.setdefault(counter.category, {"provider": provider, "model": model, "amount_micros": 0})
        row[_AI_COUNTERS[counter.kind]] = counter.count
        row["amount_micros"] += counter.amount_micros
    empty = dict.fromkeys(_AI_COUNTERS.values(), 0)
    return sorted(
        ({**empty, **row} for row in rows.values()),
        key=lambda row: (-row["amount_micros"], row["provider"], row["model"]),
    )


def ledger_entries(
    *,
    cycle: date | None = None,
    kind: str | None = None,
    campaign: Any = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[LedgerEntry]:
    """The current tenant's ledger, newest first, filtered (the table and its CSV export)."""
    entries = LedgerEntry.objects.select_related("campaign", "rate__card", "created_by")
    if cycle is not None:
        entries = entries.filter(billing_cycle=cycle)
    if kind:
        entries = entries.filter(kind=kind)
    if campaign is not None:
        entries = entries.filter(campaign_id=getattr(campaign, "pk", campaign))
    if since is not None:
        entries = entries.filter(occurred_at__gte=since)
    if until is not None:
        entries = entries.filter(occurred_at__lt=until)
    return entries.order_by("-occurred_at", "-id")


def unpriced_usage_list(*, resolved: bool = False) -> QuerySet[UnpricedUsage]:
    return UnpricedUsage.objects.filter(resolved_at__isnull=not resolved).order_by("-occurred_at", "-id")


def ledger_balance_check(tenant: Any = None) -> tuple[int, int]:
    """(sum of the ledger, the profile's balance): equal for a workspace prepaid since its first entry."""
    total = LedgerEntry.objects.aggregate(total=Sum("amount_micros"))["total"] or 0
    return total, billing_profile_get(tenant).balance_micros


# --- prepaid


def launch_allowed(tenant: Any, estimate: dict[str, Any] | None) -> tuple[bool, str]:
    """May this workspace launch a campaign of this estimate? Postpaid: yes. Prepaid: only if the
    balance minus the estimate stays at or above −credit limit (an unknown estimate counts as 0, so
    a balance already below the limit still refuses). Always yes when BILLING_ENFORCE_BALANCE is off."""
    profile = billing_profile_get(tenant)
    if not profile.prepaid or not settings.BILLING_ENFORCE_BALANCE:
        return True, ""
    estimate = estimate or {}
    cost = int(estimate.get("total_micros") or 0) if estimate.get("status") == "estimated" else 0
    floor = -profile.credit_limit_micros
    if profile.balance_micros - cost >= floor:
        return True, ""
    balance = format_money(profile.balance_micros, profile.currency)
    limit = format_money(profile.credit_limit_micros, profile.currency)
    if profile.balance_micros < floor:
        return False, f"The prepaid balance ({balance}) is below its credit limit (−{limit}): add credit first."
    needed = format_money(cost, profile.currency)
    return False, (
        f"This campaign should cost about {needed}; the prepaid balance ({balance}) would go below its "
        f"credit limit (−{limit}): add credit first."
    )
