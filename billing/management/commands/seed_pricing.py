"""Load Meta's rate cards and market structures: `manage.py seed_pricing [--file CSV ...] [--markets CSV ...]`.
Without files it also adds the default AI token prices that are missing (billing.services.ai_prices)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from billing.loading import PricingLoadError, pricing_load, shipped_market_files, shipped_rate_cards
from billing.services import ai_token_prices_seed


class Command(BaseCommand):
    help = (
        "Load rate cards and market structures from CSV (README: Billing). Without --file/--markets: the ones "
        "shipped in billing/data/, and the default AI token prices not set yet. Idempotent; all or nothing; exit "
        "code 1 with every problem and its line."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", action="append", default=[], metavar="CSV", help="A rate card (repeatable)")
        parser.add_argument(
            "--markets", action="append", default=[], metavar="CSV", help="A market structure (repeatable)"
        )
        parser.add_argument(
            "--allow-partial",
            action="store_true",
            help="Load a card marked partial (its missing markets stay unpriced)",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Load a file over a version already loaded from other content (never a card the ledger used)",
        )

    def handle(self, *args, file: list[str], markets: list[str], allow_partial: bool, replace: bool, **options):
        shipped = not file and not markets
        if shipped:
            card_files, market_files = shipped_rate_cards(), shipped_market_files()
        else:
            card_files, market_files = [Path(name) for name in file], [Path(name) for name in markets]
        try:
            report = pricing_load(
                card_files=card_files, market_files=market_files, allow_partial=allow_partial, replace=replace
            )
        except PricingLoadError as error:
            listing = "\n".join(f"  {problem}" for problem in error.problems)
            raise CommandError(f"nothing was loaded; {len(error.problems)} problem(s):\n{listing}") from None
        for line in report.lines:
            self.stdout.write(line)
        for warning in report.warnings:
            self.stderr.write(f"warning: {warning}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.cards_loaded} card(s) and {report.structures_loaded} market structure(s) loaded "
                f"({report.rates_loaded} rates); {report.cards_unchanged + report.structures_unchanged} unchanged."
            )
        )
        if shipped:
            added = ai_token_prices_seed()
            names = ", ".join(f"{price.provider} {price.model}" for price in added)
            self.stdout.write(f"AI token prices: {len(added)} default row(s) added{f' ({names})' if names else ''}.")
