"""`python -m bench.webhooks`: its options, the stack it starts and the stages it runs (the package's
docstring tells the modes, columns and targets)."""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
from pathlib import Path

import bench.webhooks
from bench.smoke import add_smoke_flag, apply_smoke
from bench.stack import manage, setup_django, staging_env, start_web_server, stop_on_sigterm
from bench.webhooks.report import HEADER, print_row, print_targets, problems_of
from bench.webhooks.running import Stack, run_stage, start_webhook_workers, warm_up
from bench.webhooks.stages import MODES, create_workspace, plan_stages, seed
from devstack.run import stop_process_groups, wait_for_port
from devstack.services import Services, free_port

# `make run` (devstack/run.py) and the Procfile start one `rqworker` for every queue, webhooks first.
MAKE_RUN_WORKERS = 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.webhooks", description=bench.webhooks.__doc__.split("\n\n")[0]
    )
    parser.add_argument("--modes", default="inbound,status1,status100", help=f"any of {', '.join(MODES)}")
    parser.add_argument("--rates", default="100,500,1000,2000", help="POSTs/s offered in inbound and status1")
    parser.add_argument("--batch-rates", default="10,40", help="POSTs/s offered in status100 (100 updates each)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per stage")
    parser.add_argument("--web-workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--rq-workers", type=int, default=MAKE_RUN_WORKERS, help="`rqworker webhooks` processes (make run's count)"
    )
    parser.add_argument(
        "--drain-after",
        action="store_true",
        help="start the RQ workers only after each stage's load (the web tier alone, as when the workers "
        "run on other machines); by default they process while the load runs, on the same cores",
    )
    parser.add_argument("--drain-timeout", type=float, default=600.0)
    add_smoke_flag(parser)
    args = parser.parse_args()
    apply_smoke(args, parser, rates="50,100", batch_rates="1", duration=2.0, web_workers=2, drain_timeout=120.0)
    args.modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    if unknown := set(args.modes) - set(MODES):
        parser.error(f"unknown modes {sorted(unknown)}; known: {', '.join(MODES)}")
    args.rates = [float(rate) for rate in args.rates.split(",") if rate.strip()]
    args.batch_rates = [float(rate) for rate in args.batch_rates.split(",") if rate.strip()]
    if min([*args.rates, *args.batch_rates, args.duration], default=1) <= 0:
        parser.error("rates and --duration are positive")
    return args


def main() -> int:
    args = parse_args()
    stop_on_sigterm()
    scratch = Path(tempfile.mkdtemp(prefix="aerostic-bench-"))
    services = Services(scratch, persistent=False)
    children: list[subprocess.Popen] = []
    try:
        services.start()
        port = free_port()
        env = staging_env(port)
        print("Preparing: migrate, rate cards, one workspace with one number…", flush=True)
        for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"], ["seed_pricing"]):
            manage(env, *command, "-v", "0")
        setup_django(env)
        from django.conf import settings

        tenant, phone = create_workspace()
        stages = plan_stages(args)
        seed(stages, tenant, phone, scratch)
        children.append(start_web_server(port, env, args.web_workers))
        if not args.drain_after:
            children.extend(start_webhook_workers(args.rq_workers, env))
        wait_for_port(port, timeout=30)
        stack = Stack(port, env, tenant, args.rq_workers, args.drain_after, args.drain_timeout, children)
        warm_up(stack)
        print(
            f"gunicorn: {args.web_workers} uvicorn workers; `rqworker --with-scheduler webhooks`: {args.rq_workers} "
            f"(make run starts {MAKE_RUN_WORKERS}; WEBHOOK_DRAINERS {settings.WEBHOOK_DRAINERS})"
            f"{', started after each stage' if args.drain_after else ', processing during the load'}; "
            f"{args.duration:g} s per stage; {os.cpu_count()} CPU cores\n",
            flush=True,
        )
        print(HEADER)
        print("-" * len(HEADER), flush=True)
        results = []
        for stage in stages:
            results.append(run_stage(stage, stack))
            print_row(results[-1])
        print_targets(results, duration=args.duration, smoke=args.smoke)
        problems = problems_of(results, smoke=args.smoke)
        for problem in problems:
            print(f"FAIL: {problem}")
        return 1 if problems else 0
    finally:
        stop_process_groups(children)
        services.stop()
        services.delete()
