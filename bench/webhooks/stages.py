"""The stages of bench.webhooks: one mode at one offered rate each, the workspace they post to, the
outbound messages the status modes report on, and the load generator that fires a stage."""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from bench.loadgen import request_count, status_schedule
from bench.processes import ROOT

PHONE_ID, WABA_ID = "109000000000001", "209000000000001"
# mode: (the load generator's body factory, updates per POST)
MODES = {"inbound": ("inbound", 1), "status1": ("status", 1), "status100": ("status", 100)}
STAGE_RECIPIENTS = 1_000_000  # each status stage's customers are new numbers: stage i from i × this


def create_workspace():
    """One workspace with one connected number; returns both (the status modes seed through them)."""
    from aerostic.core.tenant_context import tenant_context
    from tenants.models import Tenant
    from whatsapp.models import PhoneNumber, WhatsAppAccount

    tenant, _ = Tenant.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    with tenant_context(tenant):
        account, _ = WhatsAppAccount.objects.get_or_create(waba_id=WABA_ID, defaults={"name": "Bench"})
        phone, _ = PhoneNumber.objects.select_related("account").get_or_create(
            account=account, phone_number_id=PHONE_ID, defaults={"display_phone_number": "+1 555 010 0100"}
        )
    return tenant, phone


@dataclass
class Stage:
    """One mode at one offered rate; its tag names its wamids, `first` numbers its customers."""

    mode: str
    rate: float  # POSTs offered per second
    duration: float
    position: int

    def __post_init__(self) -> None:
        self.kind, self.per_post = MODES[self.mode]
        self.tag = f"{self.mode}x{int(self.rate)}x{secrets.token_hex(3)}"
        self.first = (self.position + 1) * STAGE_RECIPIENTS
        self.messages_file: Path | None = None

    @property
    def requests(self) -> int:
        return request_count(self.rate, self.duration)

    @property
    def updates(self) -> int:
        return self.requests * self.per_post

    @cached_property
    def seeded(self) -> int:
        """Messages the status schedule names (0 for inbound: its messages are new)."""
        if self.kind != "status" or not self.updates:
            return 0
        return max(message for message, _ in status_schedule(self.updates)) + 1


def plan_stages(args: argparse.Namespace) -> list[Stage]:
    """Every mode at each of its rates, in order; a stage's position keeps its customers apart."""
    offered = [(mode, rate) for mode in args.modes for rate in (args.batch_rates if MODES[mode][1] > 1 else args.rates)]
    return [Stage(mode, rate, args.duration, position) for position, (mode, rate) in enumerate(offered)]


def seed(stages: list[Stage], tenant, phone, folder: Path) -> None:
    """Before any load: the outbound messages every status stage reports on, and the file that
    tells the load generator their recipients and callback data."""
    from bench.statuses import seed_outbound

    todo = [stage for stage in stages if stage.seeded]
    if not todo:
        return
    started = time.monotonic()
    total = sum(stage.seeded for stage in todo)
    print(f"Seeding {total:,} outbound messages that exist (half campaign, half API sends)…", end=" ", flush=True)
    for stage in todo:
        plan = seed_outbound(tenant=tenant, phone=phone, tag=stage.tag, count=stage.seeded, first=stage.first)
        stage.messages_file = folder / f"{stage.tag}.json"
        stage.messages_file.write_text(json.dumps(plan))
    print(f"{time.monotonic() - started:.0f} s", flush=True)


def fire(port: int, env: dict[str, str], stage: Stage) -> dict:
    """Runs the load generator in its own process and returns its JSON result."""
    command = [sys.executable, "-m", "bench.loadgen", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--secret", env["META_APP_SECRET"], "--phone-id", PHONE_ID, "--waba-id", WABA_ID, "--tag", stage.tag]
    command += ["--rate", str(stage.rate), "--duration", str(stage.duration), "--mode", stage.kind]
    if stage.kind == "status":
        command += ["--per-post", str(stage.per_post), "--messages", str(stage.messages_file)]
    loadgen = subprocess.run(command, cwd=ROOT, text=True, capture_output=True, check=True)  # noqa: S603
    return json.loads(loadgen.stdout)


def acknowledged_updates(stage: Stage, acked: list[int]) -> list[tuple[int, str]]:
    """The (message, status) updates the acknowledged requests carried."""
    schedule = status_schedule(stage.requests * stage.per_post)
    return [update for index in acked for update in schedule[index * stage.per_post : (index + 1) * stage.per_post]]
