"""`python -m bench.dispatch`: its options, the stack it starts and the scenarios it runs (the
package's docstring tells the scenarios, columns and targets)."""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import tempfile
from pathlib import Path

import bench.dispatch
from bench.dispatch.report import NO_ERROR, last_error, print_tables, print_targets
from bench.dispatch.scenario import LIFTED_PER_MINUTE, SCENARIOS, Stack, Sweeper, run_scenario, warm_up
from bench.dispatch.workspace import api_token, configure, prepare
from bench.processes import ROOT, pg_statement_ms, postmaster_pid, start_simulator, start_workers, wait_registered
from bench.smoke import add_smoke_flag, apply_smoke
from bench.stack import manage, setup_django, staging_env, start_web_server, stop_on_sigterm
from devstack.run import stop_process_groups, wait_for_port
from devstack.services import Services, free_port

WEB_LOG = ROOT / ".data" / "logs" / "bench-sends-web.log"
WORKER_LOG = ROOT / ".data" / "logs" / "bench-sends-workers.log"


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.dispatch", description=bench.dispatch.__doc__.split("\n\n")[0]
    )
    parser.add_argument("--scenarios", default="burst,paced100")
    parser.add_argument("--burst", type=int, default=5000, help="sends offered in the burst")
    parser.add_argument("--connections", type=int, default=50, help="HTTP connections (burst: concurrent clients)")
    parser.add_argument("--paced-rate", type=float, default=100.0, help="sends offered per second in paced100")
    parser.add_argument("--paced-seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2, help="`rqworker sends --with-scheduler` processes")
    parser.add_argument("--web-workers", type=int, default=os.cpu_count() or 2, help="gunicorn (uvicorn) workers")
    parser.add_argument(
        "--web-pool-size",
        default="",
        help="DB_POOL_MAX_SIZE for the web server (default: the production setting, as Procfile runs it)",
    )
    parser.add_argument("--replay-every", type=int, default=100, help="replay every K-th accepted request (0: none)")
    parser.add_argument("--sweep-every", type=float, default=60.0, help="seconds between in-process sweeps")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds the messages may take to drain")
    parser.add_argument("--py-spy", action="store_true", help="py-spy dump one worker at the end of each scenario")
    add_smoke_flag(parser)
    args = parser.parse_args()
    apply_smoke(
        args, parser, burst=100, connections=10, paced_rate=20.0, paced_seconds=2.0, web_workers=2, timeout=120.0
    )
    names = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = set(names) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}; known: {sorted(SCENARIOS)}")
    if max(args.burst, round(args.paced_rate * args.paced_seconds)) > 1_000_000:
        parser.error("at most 1,000,000 sends per scenario")

    stop_on_sigterm()
    services = Services(Path(tempfile.mkdtemp(prefix="aerostic-bench-")), persistent=False)
    children: list[subprocess.Popen] = []
    try:
        services.start()
        port, sim_port = free_port(), free_port()
        sim_url = f"http://127.0.0.1:{sim_port}"
        env = {
            **staging_env(port),
            "SANDBOX_ENABLED": "true",
            "META_SANDBOX_URL": sim_url,
            "API_USER_RATE": "100000000/min",
            "API_TENANT_RATE": "100000000/min",
            "JWT_ACCESS_MINUTES": "1440",  # one token for the whole run, however long the drains take
        }
        print("Preparing: migrate, the simulator, one sandbox-connected workspace, the web server…", flush=True)
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "collectstatic", "--noinput", "-v", "0")
        sim = start_simulator(sim_port, env)
        children.append(sim)
        wait_for_port(sim_port, timeout=30)
        setup_django(env)
        password = secrets.token_urlsafe(16)
        tenant, user, phone, template = prepare(password)
        web_env = {**env, **({"DB_POOL_MAX_SIZE": args.web_pool_size} if args.web_pool_size else {})}
        web = start_web_server(port, web_env, args.web_workers, log=WEB_LOG)
        children.append(web)
        workers = start_workers(args.workers, env, log=WORKER_LOG)
        children.extend(workers)
        wait_for_port(port, timeout=30)
        wait_registered(args.workers)
        stack = Stack(
            port=port,
            env=env,
            sim=sim,
            sim_url=sim_url,
            web=web,
            workers=workers,
            postmaster=postmaster_pid(services),
            tenant=tenant,
            user=user,
            phone=phone,
            template=template,
            token=api_token(port, user.email, password),
            sweeper=Sweeper(args.sweep_every),
        )
        configure(tenant, user, phone, per_minute=LIFTED_PER_MINUTE)
        warm_up(stack, args)
        if pg_statement_ms() is not None:
            pg_source = "PG ms: statement execution time, pg_stat_statements"
        elif stack.postmaster:
            pg_source = "PG ms: CPU time of the Postgres server processes; pg_stat_statements is not installed"
        else:
            pg_source = "PG ms: not measurable (external Postgres without pg_stat_statements)"

        pool = args.web_pool_size or f"{env.get('DB_POOL_MAX_SIZE') or 8}, production's"
        print(
            f"gunicorn: {args.web_workers} uvicorn workers (pooled connections, DB_POOL_MAX_SIZE {pool}); "
            f"{args.workers} `rqworker sends --with-scheduler`; logs in {WEB_LOG.parent.relative_to(ROOT)}/; "
            f"simulator at {sim_url}; sweep_outbound every {args.sweep_every:g} s in this process; "
            f"{os.cpu_count()} CPU cores\n",
            flush=True,
        )
        results = []
        for position, name in enumerate(names):
            print(f"{name}…", flush=True)
            results.append(run_scenario(stack, position, name, args))
        print()
        print_tables(results, pg_source)
        print_targets(results, smoke=args.smoke)
        if any(r["others"] for r in results):
            print(f"\nThe web server's last error ({WEB_LOG.relative_to(ROOT)}): {last_error(WEB_LOG)}")
        if (worker_error := last_error(WORKER_LOG)) != NO_ERROR:
            print(f"\nThe workers' last error ({WORKER_LOG.relative_to(ROOT)}): {worker_error}")
        problems = []
        for r in results:
            if r["dup"] or r["lost"] or r["stuck"]:
                problems.append(f"{r['name']}: {r['dup']} duplicated, {r['lost']} lost, {r['stuck']} stuck")
            if args.smoke and r["others"]:
                problems.append(f"{r['name']}: answers other than 202 at a size any machine takes ({r['others']})")
        for problem in problems:
            print(f"FAIL: {problem}")
        return 1 if problems else 0
    finally:
        stop_process_groups(children)
        services.stop()
        services.delete()
