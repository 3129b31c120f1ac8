"""`manage.py alert_watchdog`: the watchdog process (aerostic.core.watchdog), beside the workers."""

from __future__ import annotations

import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from aerostic.core.watchdog import Watchdog, run_forever


class Command(BaseCommand):
    help = "Check Redis and Postgres from outside them; tell the platform's alert channels when one is down."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="One round, then exit (its result printed)")

    def handle(self, *args: Any, **options: Any) -> None:
        watchdog = Watchdog.for_settings()
        if options["once"]:
            self.stdout.write(str(watchdog.tick()))
            return
        stopping = []
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopping.append(True))
        interval = settings.ALERT_THRESHOLDS.watchdog_interval_seconds
        self.stdout.write(f"Watchdog: Redis and Postgres every {interval} s.")
        run_forever(watchdog, interval=interval, stop=lambda: bool(stopping))
