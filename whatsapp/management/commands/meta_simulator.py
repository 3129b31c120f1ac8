"""Run the Graph API simulator: `manage.py meta_simulator --port 8765`."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from whatsapp.simulator import SimulatorServer


class Command(BaseCommand):
    help = "Serve a simulator of Meta's WhatsApp Cloud API (sandbox mode, development, tests, benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument(
            "--webhook-url",
            default=f"{settings.SITE_URL}/webhooks/meta/",
            help="Where signed webhooks are posted (empty: keep them in memory only).",
        )
        parser.add_argument("--review-seconds", type=float, default=5.0, help="Template review delay.")
        parser.add_argument(
            "--state-file",
            default="",
            help="Keep WABAs, numbers, tokens and templates here "
            "across restarts (make run uses .data/simulator-state.json).",
        )

    def handle(self, *args, host: str, port: int, webhook_url: str, review_seconds: float, state_file: str, **options):
        server = SimulatorServer(
            host=host,
            port=port,
            webhook_url=webhook_url or None,
            app_secret=settings.META_APP_SECRET,
            state_file=Path(state_file) if state_file else None,
        )
        server.state.review_seconds = review_seconds
        sandbox = server.state.sandbox
        self.stdout.write(
            f"Meta Graph API simulator on {server.url} (webhooks → {webhook_url or 'memory'}); "
            f"sandbox WABA {sandbox['waba_id']}, phone number id {sandbox['phone_number_id']}"
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.httpd.server_close()
