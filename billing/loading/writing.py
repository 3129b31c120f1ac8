"""Writing checked rate cards and market structures in one transaction (`manage.py seed_pricing`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from aerostic.core import audit
from aerostic.core.tenant_context import platform_context
from billing.loading.reading import ParsedCard, ParsedMarkets, PricingLoadError, read_markets, read_rate_card
from billing.models import MarketAssignment, MarketStructure, Rate, RateCard

DATA = Path(__file__).resolve().parent.parent / "data"


def shipped_rate_cards() -> list[Path]:
    return sorted((DATA / "rate_cards").glob("*.csv"))


def shipped_market_files() -> list[Path]:
    return sorted((DATA / "markets").glob("*.csv"))


@dataclass
class LoadReport:
    """What a load did: one line per file in `lines`, plus warnings (loaded anyway)."""

    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    cards_loaded: int = 0
    cards_unchanged: int = 0
    structures_loaded: int = 0
    structures_unchanged: int = 0
    rates_loaded: int = 0


def pricing_load(
    *,
    card_files: list[Path],
    market_files: list[Path],
    allow_partial: bool = False,
    replace: bool = False,
    actor: Any = None,
) -> LoadReport:
    """Reads every file, then writes all of them in one transaction, or raises PricingLoadError
    with every problem and writes nothing. A version already loaded from the same bytes is left as
    it is; from different bytes it is refused unless `replace` (and a card whose rates the ledger
    already used is never replaced: a correction is a new card with a later effective date)."""
    problems: list[str] = []
    cards: list[ParsedCard] = []
    structures: list[ParsedMarkets] = []
    for path in market_files:
        parsed, found = read_markets(Path(path))
        problems.extend(found)
        if parsed is not None:
            structures.append(parsed)
    for path in card_files:
        card, found = read_rate_card(Path(path), allow_partial=allow_partial)
        problems.extend(found)
        if card is not None:
            cards.append(card)
    _same_version_twice(cards, structures, problems)
    if problems:
        raise PricingLoadError(problems)

    report = LoadReport()
    with transaction.atomic():
        for structure in structures:
            _write_structure(structure, replace, report, problems)
        for card in cards:
            _write_card(card, replace, report, problems)
        if problems:
            transaction.set_rollback(True)
            raise PricingLoadError(problems)
        report.warnings.extend(_coverage_warnings(cards))
        if report.cards_loaded or report.structures_loaded:
            audit.record(
                "billing.pricing_load",
                actor=actor,
                metadata={"files": [line for line in report.lines if "unchanged" not in line]},
            )
    return report


def _same_version_twice(cards: list[ParsedCard], structures: list[ParsedMarkets], problems: list[str]) -> None:
    by_key: dict[Any, Path] = {}
    items: list[ParsedCard | ParsedMarkets] = [*cards, *structures]
    for item in items:
        key = item.key if isinstance(item, ParsedCard) else ("markets", item.effective_from)
        if key in by_key:
            problems.append(f"{item.path}: the same version as {by_key[key]} (one file per version)")
        by_key[key] = item.path


def _write_structure(parsed: ParsedMarkets, replace: bool, report: LoadReport, problems: list[str]) -> None:
    existing = MarketStructure.objects.select_for_update().filter(effective_from=parsed.effective_from).first()
    name = parsed.path.name
    if existing is not None and existing.sha256 == parsed.sha256:
        report.structures_unchanged += 1
        report.lines.append(f"markets {parsed.effective_from}: unchanged ({name})")
        return
    if existing is not None and not replace:
        problems.append(
            f"{parsed.path}: markets from {parsed.effective_from} are already loaded from {existing.file_name} "
            "with other content: --replace loads this file instead"
        )
        return
    if existing is not None:
        existing.assignments.all().delete()
        structure = existing
    else:
        structure = MarketStructure(effective_from=parsed.effective_from)
    structure.source, structure.retrieved = parsed.source, parsed.retrieved
    structure.file_name, structure.sha256 = name, parsed.sha256
    structure.save()
    MarketAssignment.objects.bulk_create(
        [
            MarketAssignment(structure=structure, country_code=code, market=market)
            for code, market in sorted(parsed.assignments.items())
        ]
    )
    report.structures_loaded += 1
    verb = "replaced" if existing is not None else "loaded"
    report.lines.append(f"markets {parsed.effective_from}: {verb}, {len(parsed.assignments)} countries ({name})")


def _write_card(parsed: ParsedCard, replace: bool, report: LoadReport, problems: list[str]) -> None:
    currency, model, effective = parsed.key
    existing = (
        RateCard.objects.select_for_update()
        .filter(currency=currency, pricing_model=model, effective_from=effective)
        .first()
    )
    name = parsed.path.name
    label = f"{currency} {model} {effective}"
    if existing is not None and existing.sha256 == parsed.sha256:
        report.cards_unchanged += 1
        report.lines.append(f"card {label}: unchanged ({name})")
        return
    if existing is not None and not replace:
        problems.append(
            f"{parsed.path}: the card {label} is already loaded from {existing.file_name} with other content: "
            "--replace loads this file instead (a card already used by the ledger is never replaced)"
        )
        return
    if existing is not None:
        from billing.models import LedgerEntry

        # Every workspace's ledger: without the platform scope RLS shows no rows and the guard never fires
        with platform_context("seed_pricing: is the card already used by a ledger"):
            used = LedgerEntry.all_tenants.filter(rate__card=existing).exists()
        if used:
            problems.append(
                f"{parsed.path}: the card {label} already priced ledger entries and cannot be replaced: "
                "load the correction as a new card with a later effective date"
            )
            return
        existing.rates.all().delete()
        card = existing
    else:
        card = RateCard(currency=currency, pricing_model=model, effective_from=effective)
    card.source, card.retrieved, card.rules = parsed.source, parsed.retrieved, parsed.rules
    card.is_partial, card.file_name, card.sha256 = parsed.is_partial, name, parsed.sha256
    card.save()
    Rate.objects.bulk_create(
        [
            Rate(card=card, market=market, category=category, price=price)
            for (market, category), price in sorted(parsed.rates.items())
        ]
    )
    report.cards_loaded += 1
    report.rates_loaded += len(parsed.rates)
    verb = "replaced" if existing is not None else "loaded"
    partial = ", PARTIAL" if parsed.is_partial else ""
    report.lines.append(f"card {label}: {verb}, {len(parsed.rates)} rates{partial} ({name})")


def _coverage_warnings(cards: list[ParsedCard]) -> list[str]:
    """A complete card should price every market of the structure in force on its first day (and
    Other); a market it names that the structure does not know is never used. Warnings only."""
    from billing.pricing import OTHER_MARKET, structure_for

    warnings = []
    for card in cards:
        structure = structure_for(card.effective_from)
        if structure is None:
            warnings.append(
                f"{card.path.name}: no market structure is loaded for {card.effective_from}: "
                "its messages stay unpriced until one is"
            )
            continue
        markets = set(structure.assignments.values_list("market", flat=True)) | {OTHER_MARKET}
        priced = {market for market, _ in card.rates}
        if not card.is_partial and markets - priced:
            missing = ", ".join(sorted(markets - priced))
            warnings.append(f"{card.path.name}: no rates for {missing} (markets from {structure.effective_from})")
        if priced - markets:
            unknown = ", ".join(sorted(priced - markets))
            warnings.append(
                f"{card.path.name}: {unknown} not in the markets from {structure.effective_from}: "
                "those rates apply only under a later structure"
            )
    return warnings
