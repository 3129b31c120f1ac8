"""`manage.py production_readiness [--json] [--days N]`: the seed report's verdict from live checks;
exit code 0 only on PASS (aerostic/readiness.py)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from aerostic.readiness import DEFAULT_DAYS, GATES, production_readiness


class Command(BaseCommand):
    help = "Checks the production gates live and prints the verdict (exit code 0 only on PASS)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", dest="as_json", help="print the verdict as JSON only")
        parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help="how recent deliveries and webhooks must be")

    def handle(self, *args: Any, as_json: bool = False, days: int = DEFAULT_DAYS, **options: Any) -> None:
        if days < 1:
            raise CommandError("--days must be at least 1.")
        verdict = production_readiness(days=days)
        if as_json:
            self.stdout.write(json.dumps(verdict.as_dict(), indent=2))
        else:
            self.stdout.write(f"production_readiness: {'PASS' if verdict.passed else 'FAIL'}")
            for gate in GATES:
                mark = "yes" if verdict.gates[gate] else "NO "
                reason = verdict.reasons.get(gate, "")
                self.stdout.write(f"  {mark}  {gate}" + (f"  — {reason}" if reason else ""))
        if not verdict.passed:
            failing = sum(not ok for ok in verdict.gates.values())
            raise CommandError(f"Not ready for production: {failing} of {len(GATES)} gates fail.", returncode=1)
