"""Meta's pricing rules, driven by the loaded data: which card and market apply when, and what one
message (or conversation) costs. Reads the platform tables (cards, rates, markets), writes nothing.

Order of the rules in `price_message`:
1. Meta's word first. A status's `pricing.type` other than `regular` (free_customer_service,
   free_entry_point), or the deprecated `billable: false`, means Meta did not charge: free.
2. When Meta did not say (estimates, old webhooks), the card's `rules` decide: service messages
   free, utility templates free inside an open customer service window, the free entry point (72 h
   after a click-to-WhatsApp ad), the monthly free service conversations of per-conversation cards.
   An explicit `type: regular` skips them: Meta charged it, so a rule saying "free" means the card
   is outdated, and the missing rate makes the message unpriced rather than free.
3. Otherwise the card's rate for the recipient's market and the category; anything missing (card,
   market structure, rate, country) is `Unpriced` with the reason, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aerostic.core.money import to_micros
from billing.models import Category, MarketAssignment, MarketStructure, PricingModel, PricingType, Rate, RateCard

# Meta switched from per-conversation to per-message pricing on 2025-07-01. A constant, not derived
# from the loaded cards: with only some currencies loaded (or a per-conversation card loaded for
# one currency and a later per-message card for another) the cards alone would move the switch.
# Statuses say which model Meta applied (`pricing.pricing_model`), and that wins over this date.
PRICING_MODEL_SWITCH = date(2025, 7, 1)

WEBHOOK_MODELS = {"CBP": PricingModel.PER_CONVERSATION, "PMP": PricingModel.PER_MESSAGE}

OTHER_MARKET = "Other"

# What webhooks and CSVs write → our category ("authentication-international" is Meta's CSV header).
_CATEGORY_NAMES = {
    "marketing": Category.MARKETING,
    "utility": Category.UTILITY,
    "authentication": Category.AUTHENTICATION,
    "authentication_international": Category.AUTHENTICATION_INTERNATIONAL,
    "authentication-international": Category.AUTHENTICATION_INTERNATIONAL,
    "service": Category.SERVICE,
}
# Per-conversation webhooks name a free entry point conversation by this category / origin type.
ENTRY_POINT_CATEGORY = "referral_conversion"

# Free as Meta reports it (`type`), or as the deprecated `billable: false` reads (billing.services).
FREE_TYPES = {PricingType.FREE_CUSTOMER_SERVICE.value, PricingType.FREE_ENTRY_POINT.value, PricingType.FREE_TIER.value}

DEFAULT_RULES: dict[str, dict[str, Any]] = {
    PricingModel.PER_MESSAGE: {
        "service_free": True,
        "utility_free_in_service_window": True,
        "free_entry_point_hours": 72,
        "volume_tiers": {},
    },
    PricingModel.PER_CONVERSATION: {
        "conversation_hours": 24,
        "service_free_monthly_allowance": 1000,
        "free_entry_point_hours": 72,
    },
}


def category_of(value: Any) -> str | None:
    """Our category for Meta's spelling ("marketing", "MARKETING", "authentication-international"),
    None when unknown (e.g. "marketing_lite": priced only once a card has a rate for it)."""
    return _CATEGORY_NAMES.get(str(value or "").strip().lower())


def model_in_force(at: datetime | date) -> str:
    return PricingModel.PER_MESSAGE if _day(at) >= PRICING_MODEL_SWITCH else PricingModel.PER_CONVERSATION


def rules_of(card: RateCard) -> dict[str, Any]:
    """The card's rules over the model's defaults (a card loaded before a rule existed keeps working)."""
    return {**DEFAULT_RULES.get(card.pricing_model, {}), **(card.rules or {})}


def _day(at: datetime | date) -> date:
    """Effective dates are UTC calendar days."""
    if isinstance(at, datetime):
        return at.astimezone(UTC).date() if at.tzinfo else at.date()
    return at


# --- lookups


def structure_for(at: datetime | date) -> MarketStructure | None:
    return MarketStructure.objects.filter(effective_from__lte=_day(at)).order_by("-effective_from").first()


def market_for(country_code: str, at: datetime | date) -> str | None:
    """Meta's market of a country at a time: its market in the structure in force, "Other" when that
    structure does not list it. None when no structure is in force at all (nothing loaded for then)."""
    return PriceBook().market_for(country_code, at)


def card_for(currency: str, at: datetime | date, *, pricing_model: str | None = None) -> RateCard | None:
    """The card in force: newest `effective_from` on or before `at`, in `currency`, of the pricing
    model given (a webhook says which) or else the model in force on that date."""
    model = pricing_model or model_in_force(at)
    return (
        RateCard.objects.filter(currency=currency.upper(), pricing_model=model, effective_from__lte=_day(at))
        .order_by("-effective_from")
        .first()
    )


class PriceBook:
    """The same lookups, each table read once per book: one metering call prices a batch of statuses
    that are mostly one day, one card and a few markets, so the card in force, the whole market
    structure and the card's whole rate list (a few hundred short rows) are read on first use and the
    rest of the batch prices in memory. A book lives for one call (cards are reloaded by
    seed_pricing; nothing here is shared between calls)."""

    def __init__(self) -> None:
        self._cards: dict[tuple[str, str, date], RateCard | None] = {}
        self._structures: dict[date, MarketStructure | None] = {}
        self._markets: dict[int, dict[str, str]] = {}
        self._rates: dict[int, dict[tuple[str, str], Rate]] = {}

    def card_for(self, currency: str, at: datetime | date, *, pricing_model: str | None = None) -> RateCard | None:
        model = pricing_model or model_in_force(at)
        key = (currency.upper(), model, _day(at))
        if key not in self._cards:
            self._cards[key] = card_for(currency, at, pricing_model=model)
        return self._cards[key]

    def market_for(self, country_code: str, at: datetime | date) -> str | None:
        day = _day(at)
        if day not in self._structures:
            self._structures[day] = structure_for(day)
        structure = self._structures[day]
        if structure is None:
            return None
        if structure.pk not in self._markets:
            rows = MarketAssignment.objects.filter(structure=structure).values_list("country_code", "market")
            self._markets[structure.pk] = dict(rows)
        return self._markets[structure.pk].get((country_code or "").strip().upper()) or OTHER_MARKET

    def rate_for(self, card: RateCard, market: str, category: str) -> Rate | None:
        if card.pk not in self._rates:
            self._rates[card.pk] = {(rate.market, rate.category): rate for rate in Rate.objects.filter(card=card)}
        return self._rates[card.pk].get((market, category))


# --- pricing


@dataclass(frozen=True)
class Priced:
    """What Meta charges for it: `amount_micros` (0 when free) and why (`pricing_type`)."""

    amount_micros: int
    pricing_type: str
    pricing_model: str
    category: str
    market: str
    card: RateCard | None = None
    rate: Rate | None = None

    @property
    def is_free(self) -> bool:
        return self.amount_micros == 0


@dataclass(frozen=True)
class Unpriced:
    """Could not be priced: `code` is an UnpricedUsage.Reason value, `detail` says what is missing."""

    code: str
    detail: str


def price_message(
    *,
    currency: str,
    country: str,
    category: str,
    at: datetime,
    pricing_model: str | None = None,
    meta_type: str | None = None,
    in_service_window: bool = False,
    entry_point_at: datetime | None = None,
    service_conversations_used: int = 0,
    book: PriceBook | None = None,
) -> Priced | Unpriced:
    """The price of one delivered message (per_message) or one conversation (per_conversation).

    currency: the tenant's billing currency; country: the recipient's ISO code ("" unknown);
    category: Meta's spelling or ours; at: when Meta delivered it; pricing_model: from the webhook
    (else the date decides); meta_type: the webhook's `pricing.type` when it has one;
    in_service_window: the customer wrote in the last 24 h (utility may be free); entry_point_at:
    when the customer came through a click-to-WhatsApp ad or Page button (the card's
    `free_entry_point_hours` from then are free); service_conversations_used: per-conversation
    service conversations already counted this cycle (the monthly free allowance); book: the
    caller's PriceBook when it prices many (a fresh one otherwise).
    """
    book = book or PriceBook()
    model = pricing_model or model_in_force(at)
    raw_category = str(category or "").strip().lower()
    if raw_category == ENTRY_POINT_CATEGORY:
        return _free(PricingType.FREE_ENTRY_POINT, model, "", country, at, book=book)
    ours = category_of(raw_category)
    if ours is None:
        return Unpriced("unknown_category", f"Meta's category {category!r} is not one we price")
    if meta_type in FREE_TYPES:
        return _free(meta_type, model, ours, country, at, book=book)
    if meta_type not in (None, "", PricingType.REGULAR):
        return Unpriced("unknown_type", f"Meta's pricing type {meta_type!r} is unknown")

    card = book.card_for(currency, at, pricing_model=model)
    if card is None:
        return Unpriced(
            "no_card", f"No {currency} {model.replace('_', '-')} rate card is in force on {_day(at).isoformat()}"
        )
    if not meta_type:
        free = _free_by_rules(card, model, ours, at, in_service_window, entry_point_at, service_conversations_used)
        if free is not None:
            return _free(free, model, ours, country, at, book=book, card=card)

    if not country:
        return Unpriced("no_country", "The recipient's country is unknown (no phone number in the status)")
    market = book.market_for(country, at)
    if market is None:
        return Unpriced("no_markets", f"No market structure is loaded for {_day(at).isoformat()}")
    rate = book.rate_for(card, market, ours)
    if rate is None:
        partial = " (a partial card)" if card.is_partial else ""
        return Unpriced("no_rate", f"{card}{partial} has no {ours} rate for {market} ({country.upper()})"[:255])
    return Priced(
        amount_micros=to_micros(rate.price),
        pricing_type=PricingType.REGULAR,
        pricing_model=model,
        category=ours,
        market=market,
        card=card,
        rate=rate,
    )


def _free_by_rules(
    card: RateCard,
    model: str,
    category: str,
    at: datetime,
    in_service_window: bool,
    entry_point_at: datetime | None,
    service_conversations_used: int,
) -> str | None:
    rules = rules_of(card)
    hours = int(rules.get("free_entry_point_hours") or 0)
    if entry_point_at is not None and hours and entry_point_at <= at < entry_point_at + timedelta(hours=hours):
        return PricingType.FREE_ENTRY_POINT
    if model == PricingModel.PER_MESSAGE:
        if category == Category.SERVICE and rules.get("service_free"):
            return PricingType.FREE_CUSTOMER_SERVICE
        if category == Category.UTILITY and in_service_window and rules.get("utility_free_in_service_window"):
            return PricingType.FREE_CUSTOMER_SERVICE
        return None
    allowance = int(rules.get("service_free_monthly_allowance") or 0)
    if category == Category.SERVICE and service_conversations_used < allowance:
        return PricingType.FREE_TIER
    return None


def _free(
    pricing_type: str,
    model: str,
    category: str,
    country: str,
    at: datetime,
    *,
    book: PriceBook,
    card: RateCard | None = None,
) -> Priced:
    """Free: no card or rate needed; the market is recorded when it can be known (for reports)."""
    market = (book.market_for(country, at) or "") if country else ""
    return Priced(
        amount_micros=0, pricing_type=pricing_type, pricing_model=model, category=category, market=market, card=card
    )
