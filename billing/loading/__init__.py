"""Loading Meta's rate cards and market structures from CSV files (`manage.py seed_pricing`).

Every file is read and checked first; any problem (with its file and line number) means nothing is
written. Then everything is written in one transaction. A file already loaded (same version, same
sha256) changes nothing, so the command is safe to run on every start (`make run` does).

Rate card CSV (long format, one rate per row; README "Billing" documents it for operators):

    # source: where the figures come from (required; several lines allowed)
    # retrieved: when they were copied
    # rules: {"service_free": true, "utility_free_in_service_window": true, ...}   (optional JSON)
    # partial: true                                                               (optional)
    effective_date,pricing_model,currency,market,category,rate
    2026-01-01,per_message,USD,India,marketing,0.0118

Market structure CSV: the same comment lines, then `effective_date,country_code,market`.
"""

from billing.loading.reading import ParsedCard, ParsedMarkets, PricingLoadError, read_markets, read_rate_card
from billing.loading.writing import LoadReport, pricing_load, shipped_market_files, shipped_rate_cards

__all__ = [
    "LoadReport",
    "ParsedCard",
    "ParsedMarkets",
    "PricingLoadError",
    "pricing_load",
    "read_markets",
    "read_rate_card",
    "shipped_market_files",
    "shipped_rate_cards",
]
