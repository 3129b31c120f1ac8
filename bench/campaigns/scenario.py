"""One scenario of bench.campaigns: a campaign launched to parked workers, then sent (or only its
launch snapshot), and what it cost and left."""

from __future__ import annotations

import signal
import subprocess
import tempfile
import time
from pathlib import Path

from bench.campaigns.profiling import print_hot_spots, profile_in_process
from bench.campaigns.workspace import campaign_draft, campaign_status, configure, launch, make_audience, recipient_rows
from bench.processes import ROOT, cpu_seconds, cpu_with_children, rss_mb, sim_sends, start_workers, wait_suspended
from bench.stack import percentile
from devstack.run import stop_process_groups

SCENARIOS = {
    # name: (per-number cap in msg/s or None, target rate to check or None)
    "unlimited": (None, None),
    "bucket80": (80, 80.0),
    "bucket250": (250, 250.0),
    "snapshot": (None, None),
}


def run_snapshot(tenant, user, phone, template, count: int, first: int) -> dict:
    from aerostic.core.tenant_context import tenant_context
    from campaigns.services import campaign_cancel

    contact_list = make_audience(tenant, f"snapshot {count}", first, count)
    campaign = campaign_draft(tenant, user, phone, template, contact_list, "snapshot")
    from rq.suspension import resume, suspend

    from aerostic.core import queues

    redis = queues.redis_connection()
    suspend(redis)  # no worker listens here anyway; nothing is sent
    try:
        seconds = launch(tenant, user, campaign)
        with tenant_context(tenant):
            campaign_cancel(campaign=campaign, actor=user)
    finally:
        queues.get_queue(queues.CAMPAIGNS).empty()
        resume(redis)
    return {"count": count, "launch": seconds}


def other_processes(args) -> dict[str, list[int]]:
    """The simulator's, Postgres' and Redis' process ids (their CPU is part of the cost per message)."""
    found: dict[str, list[int]] = {"simulator": [], "postgres": [], "redis": []}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "meta_simulator" in command:
            found["simulator"].append(int(entry.name))
        elif command.startswith("postgres") or "/bin/postgres" in command:
            found["postgres"].append(int(entry.name))
        elif "redis-server" in command:
            found["redis"].append(int(entry.name))
    return found


def run_scenario(index: int, name: str, count: int, workers: int, env, context, sim_url, args) -> dict:
    from rq.suspension import resume, suspend

    from aerostic.core import queues
    from campaigns.jobs import sweep_campaigns
    from whatsapp.jobs import sweep_outbound

    tenant, user, phone, template = context
    cap, _target = SCENARIOS[name]
    configure(tenant, phone, cap)
    first = 100_000_000 + index * 1_000_000
    contact_list = make_audience(tenant, f"{name} {index}", first, count)
    campaign = campaign_draft(tenant, user, phone, template, contact_list, name)
    if args.profile:
        return profile_in_process(tenant, user, campaign, count)
    redis = queues.redis_connection()
    suspend(redis)
    procs = start_workers(workers, env, queue="campaigns")
    try:
        wait_suspended(workers)
        sends_before = sim_sends(sim_url)
        launch_seconds = launch(tenant, user, campaign)
        cpu_before = sum(cpu_seconds(proc.pid) for proc in procs)
        others_before = {
            name: sum(cpu_with_children(pid) for pid in pids) for name, pids in other_processes(args).items()
        }
        spy = None
        if args.py_spy:
            spy_out = Path(tempfile.mkdtemp()) / "worker.txt"
            spy = subprocess.Popen(  # noqa: S603
                [
                    str(ROOT / ".venv/bin/py-spy"),
                    "record",
                    "--pid",
                    str(procs[0].pid),
                    "--format",
                    "raw",
                    "--output",
                    str(spy_out),
                    "--rate",
                    "250",
                    "--nonblocking",
                    "--gil",  # only the thread holding the GIL: where Python time goes
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        resume(redis)
        started = time.monotonic()
        last_sweep = started
        while campaign_status(tenant, campaign) == "running":
            time.sleep(0.5)
            if time.monotonic() - last_sweep > 60:  # as the scheduler would, once a minute
                sweep_outbound()
                sweep_campaigns()
                last_sweep = time.monotonic()
            if time.monotonic() - started > args.timeout:
                break
        seconds = time.monotonic() - started
        cpu = sum(cpu_seconds(proc.pid) for proc in procs) - cpu_before
        others = {
            name: sum(cpu_with_children(pid) for pid in pids) - others_before.get(name, 0.0)
            for name, pids in other_processes(args).items()
        }
        rss = max(rss_mb(proc.pid) for proc in procs)
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=30)
            print_hot_spots(spy_out)
    finally:
        stop_process_groups(procs)

    found = recipient_rows(tenant, campaign)
    sends = {recipient: n - sends_before.get(recipient, 0) for recipient, n in sim_sends(sim_url).items()}
    states: dict[str, int] = {}
    for _, state, _, _ in found:
        states[state] = states.get(state, 0) + 1
    sent_times = sorted(sent for _, _, _, sent in found if sent)
    span = (sent_times[-1] - sent_times[0]).total_seconds() if len(sent_times) > 1 else 0.0
    latencies = [(sent - claimed).total_seconds() * 1000 for _, _, claimed, sent in found if claimed and sent]
    return {
        "name": name,
        "cap": cap,
        "count": count,
        "workers": workers,
        "launch": launch_seconds,
        "seconds": seconds,
        "rate": (len(sent_times) - 1) / span if span else float("nan"),
        "p50": percentile(latencies, 0.50),
        "p99": percentile(latencies, 0.99),
        "cpu_ms": 1000 * cpu / count,
        "sim_ms": 1000 * others["simulator"] / count,
        "db_ms": 1000 * (others["postgres"] + others["redis"]) / count,
        "rss": rss,
        "dup": sum(max(0, sends.get(recipient, 0) - 1) for recipient, _, _, _ in found),
        "lost": sum(
            1 for recipient, state, _, _ in found if sends.get(recipient, 0) == 0 and state not in ("failed", "skipped")
        ),
        "states": states,
        "timed_out": seconds > args.timeout,
    }
