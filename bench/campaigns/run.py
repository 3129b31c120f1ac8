"""`python -m bench.campaigns`: its options, the stack it starts and the scenarios it runs (the
package's docstring tells the scenarios and columns)."""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
from pathlib import Path

import bench.campaigns
from bench.campaigns.scenario import SCENARIOS, run_scenario, run_snapshot
from bench.campaigns.workspace import prepare
from bench.processes import start_simulator
from bench.smoke import add_smoke_flag, apply_smoke
from bench.stack import manage, setup_django, staging_env, stop_on_sigterm
from devstack.run import stop_process_groups, wait_for_port
from devstack.services import Services, free_port

TOLERANCE = 0.05
SNAPSHOT_TARGET_SECONDS = 10.0


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.campaigns", description=bench.campaigns.__doc__.split("\n\n")[0]
    )
    parser.add_argument("--scenarios", default="unlimited,bucket80,bucket250,snapshot")
    parser.add_argument("--recipients", type=int, default=20_000, help="recipients per sending scenario")
    parser.add_argument("--snapshot-recipients", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2, help="RQ workers (each runs batches of 250 concurrently)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds a scenario may take")
    parser.add_argument("--py-spy", action="store_true", help="sample one worker with py-spy, print hot spots")
    parser.add_argument("--profile", action="store_true", help="run the first scenario's batches here, profiled")
    add_smoke_flag(parser)
    args = parser.parse_args()
    apply_smoke(
        args, parser, scenarios="unlimited,bucket80,snapshot", recipients=300, snapshot_recipients=2_000, timeout=120.0
    )
    names = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = set(names) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}; known: {sorted(SCENARIOS)}")
    if not 1 <= args.recipients <= 1_000_000 or not 1 <= args.snapshot_recipients <= 1_000_000:
        parser.error("recipients: from 1 to 1,000,000")

    stop_on_sigterm()
    services = Services(Path(tempfile.mkdtemp(prefix="aerostic-bench-")), persistent=False)
    children: list[subprocess.Popen] = []
    try:
        services.start()
        sim_port = free_port()
        sim_url = f"http://127.0.0.1:{sim_port}"
        env = {
            **staging_env(free_port()),
            "SANDBOX_ENABLED": "true",
            "META_SANDBOX_URL": sim_url,
            "SANDBOX_RATE_LIMITS": "false",
        }
        print("Preparing: migrate, the simulator, one sandbox-connected workspace, a template…", flush=True)
        manage(env, "migrate", "--noinput", "-v", "0")
        children.append(start_simulator(sim_port, env))
        wait_for_port(sim_port, timeout=30)
        setup_django(env)
        context = prepare(sim_url)
        print(f"simulator at {sim_url} (webhooks kept in memory); {os.cpu_count()} CPU cores\n", flush=True)
        header = (
            f"{'scenario':<10} {'cap/s':>6} {'recips':>7} {'workers':>7} {'launch s':>8} {'seconds':>7} "
            f"{'msg/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'cpu ms':>6} {'sim ms':>6} {'db ms':>6} {'RSS MB':>6} "
            f"{'dup':>4} {'lost':>4}  states"
        )
        print(header)
        print("-" * len(header), flush=True)
        problems = []
        for index, name in enumerate(names):
            if name == "snapshot":
                r = run_snapshot(*context, args.snapshot_recipients, 500_000_000)
                print(f"{'snapshot':<10} {'-':>6} {r['count']:>7} {'-':>7} {r['launch']:>8.1f}", flush=True)
                if r["launch"] >= SNAPSHOT_TARGET_SECONDS:
                    problems.append(f"snapshot: {r['launch']:.1f} s for {r['count']} recipients (target < 10 s)")
                continue
            r = run_scenario(index, name, args.recipients, args.workers, env, context, sim_url, args)
            states = " ".join(f"{state}={n}" for state, n in sorted(r["states"].items()))
            cap = "off" if r["cap"] is None else str(r["cap"])
            print(
                f"{r['name']:<10} {cap:>6} {r['count']:>7} {r['workers']:>7} {r['launch']:>8.1f} {r['seconds']:>7.1f} "
                f"{r['rate']:>7.1f} {r['p50']:>7.1f} {r['p99']:>7.1f} {r['cpu_ms']:>6.2f} {r['sim_ms']:>6.2f} "
                f"{r['db_ms']:>6.2f} {r['rss']:>6.0f} "
                f"{r['dup']:>4} {r['lost']:>4}  {states}",
                flush=True,
            )
            target = SCENARIOS[name][1]
            if r["timed_out"]:
                problems.append(f"{name}: not completed after {args.timeout:.0f} s")
            if r["dup"] or r["lost"]:
                problems.append(f"{name}: {r['dup']} duplicated, {r['lost']} lost")
            if target and not args.smoke and not abs(r["rate"] - target) <= target * TOLERANCE:
                problems.append(f"{name}: {r['rate']:.1f} msg/s is not within ±5 % of {target:g}")
            if name == "unlimited" and not args.smoke and not r["rate"] >= 1000:
                print(f"note: unlimited reached {r['rate']:.0f} msg/s (target ≥ 1,000) on {os.cpu_count()} cores")
        for problem in problems:
            print(f"FAIL: {problem}")
        return 1 if problems else 0
    finally:
        stop_process_groups(children)
        services.stop()
        services.delete()
