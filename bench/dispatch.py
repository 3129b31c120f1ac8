"""`make bench-sends`: one-off template sends, each its own `POST /api/v1/messages`, end to end.

Starts throwaway PostgreSQL + Redis (or uses DATABASE_URL / REDIS_URL), the Graph API simulator
(`manage.py meta_simulator`, webhooks kept in its memory), the web server as production runs it
(gunicorn + uvicorn workers, production settings: bench.webhooks) and K `rqworker sends
--with-scheduler` workers. It creates one workspace connected to the simulator's sandbox through the
real services, with a member whose JWT (from `POST /api/v1/auth/token/`, as an integrator gets one)
authenticates the sends. The load comes from a separate process (bench.sendgen): request i sends the
approved `hello_world` template (UTILITY) to a new recipient with its own `Idempotency-Key`; every
`--replay-every`-th accepted request is sent again with the same key (a client that lost the
answer), and the second 202 must name the same message. After the load, the bench waits until no
accepted message is queued or sending. `sweep_outbound` runs in this process every `--sweep-every`
s throughout (60, as production's cron runs it: a sweep also hands every message queued for over a
minute to the queue again, so a faster cadence floods a backlog with extra jobs). Scenarios:

- `burst`: N sends offered as fast as `--connections` clients can (closed loop): how many the API
  accepts per second and how fast the pipeline sends them. Limits lifted: the workspace's
  per-minute limit, the number at throughput level HIGH (Meta's 1,000 msg/s), TIER_UNLIMITED.
- `paced100`: 100 sends a second for 10 s on a fixed schedule (open loop, bench.loadgen's way):
  the time from each 202 to Meta's acceptance. The limits stay in force at what a customer sending
  at that rate has: HIGH, TIER_UNLIMITED (every recipient is new), and a per-minute limit of twice
  the offered rate (a UTC-minute window: the burst's sends in the same minute count too).

The web server's API throttles (API_USER_RATE, API_TENANT_RATE) are lifted for the whole run: they
would refuse the load long before the pipeline is tested. Everything else is production's own
configuration; `--web-workers` (gunicorn workers) and `--web-pool-size` (the web server's
DB_POOL_MAX_SIZE: its pooled database connections per process) change the web tier. The web
server logs to .data/logs/bench-sends-web.log and the workers to .data/logs/bench-sends-workers.log;
the last error in each is printed after the tables (the web server's when any answer was not a 202).

    python -m bench.dispatch [--scenarios burst,paced100] [--burst 5000] [--connections 50]
                             [--paced-rate 100] [--paced-seconds 10] [--workers 2] [--web-workers 2]
                             [--web-pool-size N] [--replay-every 100] [--timeout 300]

First table: requests offered, offering rate (`max`: closed loop), 202s and other answers (HTTP
status or connection error), seconds of offering (first request due → last answer), accepted/s
(202s / those seconds), API p50/p99 in ms (paced: from when each request was due, so a server
falling behind shows; burst: each request's round trip), seconds from the last answer until no
message was open, sent msg/s from the first to the last `sent_at` ((sent − 1) / span), p50/p99 from
the client's receipt of the 202 to the row's `sent_at` (the same machine's clock), duplicates
(simulator sends beyond one per recipient, plus replays answered with another message), lost
(accepted, not open, not failed or skipped, and never received by the simulator), stuck (still
queued or sending at `--timeout`).

Second table, per accepted message: CPU ms of all RQ workers, of the simulator and of the web server
(user + system time of each process tree over the scenario, from /proc), Postgres ms (the
statements' execution time from pg_stat_statements when installed; otherwise the server processes'
CPU time when this bench started Postgres) and transactions committed (pg_stat_database; both
include this process's polling and sweeping), the largest worker's RSS at the end, the sweeper's
requeues and the messages' final states.

Exits non-zero on duplicates, lost or stuck messages in every mode (and with `--smoke` on any
answer but 202), never on the speed targets, which are printed beside the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.processes import (  # noqa: E402
    pg_commits,
    pg_statement_ms,
    postmaster_pid,
    sim_sends,
    start_simulator,
    start_workers,
    tree_cpu_seconds,
    tree_rss_mb,
    wait_registered,
)
from bench.smoke import add_smoke_flag, apply_smoke  # noqa: E402
from bench.webhooks import manage, percentile, production_env, start_web_server  # noqa: E402
from devstack.run import stop_process_groups, wait_for_port  # noqa: E402
from devstack.services import Services, free_port  # noqa: E402

# First recipient per scenario: Indian mobile numbers (+91 9…), valid for phonenumbers.
SCENARIOS = {"burst": 919810000000, "paced100": 919820000000}
WARMUP_FIRST = 919800000000
WEB_LOG = ROOT / ".data" / "logs" / "bench-sends-web.log"
WORKER_LOG = ROOT / ".data" / "logs" / "bench-sends-workers.log"
LIFTED_PER_MINUTE = 10_000_000
TARGET_BURST_SENT_RATE = 500.0
TARGET_PACED_P99_MS = 1000.0
OPEN_STATES = ("queued", "sending")
POLL_SECONDS = 0.5
NO_ERROR = "none logged"


# --- the workspace


def prepare(password: str):
    """One workspace with its owner, sandbox-connected, all through the real services."""
    from accounts.models import User
    from aerostic.core.tenant_context import tenant_context
    from tenants.services import tenant_create
    from whatsapp.connections.connect import sandbox_connect
    from whatsapp.models import MessageTemplate, PhoneNumber

    run = secrets.token_hex(3)  # new names per run: an external DATABASE_URL may hold earlier ones
    user = User.objects.create_user(f"bench-{run}@example.test", password=password)
    tenant = tenant_create(name="Bench", owner=user, slug=f"bench-{run}")
    account = sandbox_connect(tenant=tenant, actor=user)
    with tenant_context(tenant):
        phone = PhoneNumber.objects.select_related("account").get(account=account)
        template = MessageTemplate.objects.get(account=account, name="hello_world")
    return tenant, user, phone, template


def configure(tenant, user, phone, *, per_minute: int) -> None:
    """The workspace's per-minute limit through the staff service; the number's level and tier as
    Meta would report them for a number allowed this much."""
    from aerostic.core.tenant_context import tenant_context
    from tenants.services import tenant_platform_update
    from whatsapp.models import PhoneNumber

    tenant_platform_update(tenant=tenant, actor=user, messages_per_minute=per_minute)
    with tenant_context(tenant):
        PhoneNumber.objects.filter(pk=phone.pk).update(throughput_level="HIGH", messaging_limit_tier="TIER_UNLIMITED")


def api_token(port: int, email: str, password: str) -> str:
    response = requests.post(
        f"http://127.0.0.1:{port}/api/v1/auth/token/",
        json={"email": email, "password": password},
        headers={"X-Forwarded-Proto": "https"},
        timeout=30,
    )
    if response.status_code != 200:
        raise SystemExit(f"POST /api/v1/auth/token/ answered {response.status_code}: {response.text[:500]}")
    return response.json()["access"]


def message_rows(tenant, ids: list[int]) -> list[tuple]:
    from aerostic.core.tenant_context import tenant_context
    from whatsapp.models import OutboundMessage

    with tenant_context(tenant):
        return list(OutboundMessage.objects.filter(pk__in=ids).values_list("pk", "state", "sent_at"))


def open_count(tenant, ids: list[int]) -> int:
    from aerostic.core.tenant_context import tenant_context
    from whatsapp.models import OutboundMessage

    with tenant_context(tenant):
        return OutboundMessage.objects.filter(pk__in=ids, state__in=OPEN_STATES).count()


# --- one scenario


class Sweeper:
    """`sweep_outbound` every `every` seconds from the start of the run, as a cron would."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.next_at = time.monotonic() + every
        self.requeued = 0

    def run_when_due(self) -> None:
        from whatsapp.jobs import sweep_outbound

        if time.monotonic() >= self.next_at:
            self.requeued += sweep_outbound()["requeued"]
            self.next_at = time.monotonic() + self.every


class Stack:
    """What a scenario needs from the running stack."""

    def __init__(
        self, *, port, env, sim, sim_url, web, workers, postmaster, tenant, user, phone, template, token, sweeper
    ):
        self.port, self.env, self.sim, self.sim_url, self.web, self.sweeper = port, env, sim, sim_url, web, sweeper
        self.workers, self.postmaster = workers, postmaster
        self.tenant, self.user, self.phone, self.template, self.token = tenant, user, phone, template, token

    def usage(self) -> dict[str, float | None]:
        return {
            "worker": sum(tree_cpu_seconds(worker.pid) for worker in self.workers),
            "sim": tree_cpu_seconds(self.sim.pid),
            "web": tree_cpu_seconds(self.web.pid),
            "pg_cpu": tree_cpu_seconds(self.postmaster) if self.postmaster else None,
            "pg_ms": pg_statement_ms(),
            "commits": pg_commits(),
        }


def offer(stack: Stack, *, tag: str, first: int, count: int, rate: float, args) -> dict:
    """Runs bench.sendgen until every request is answered, sweeping meanwhile; returns its result."""
    with tempfile.TemporaryFile("w+") as output:  # a pipe would fill up and stall it while we sweep
        generator = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "bench.sendgen",
                "--port",
                str(stack.port),
                "--tenant",
                stack.tenant.slug,
                "--phone-number-id",
                str(stack.phone.pk),
                "--template-id",
                str(stack.template.pk),
                "--first",
                str(first),
                "--count",
                str(count),
                "--rate",
                str(rate),
                "--connections",
                str(args.connections),
                "--tag",
                tag,
                "--replay-every",
                str(args.replay_every),
            ],
            cwd=ROOT,
            env={**os.environ, "BENCH_API_TOKEN": stack.token},
            stdout=output,
            start_new_session=True,
        )
        try:
            while generator.poll() is None:
                time.sleep(POLL_SECONDS)
                stack.sweeper.run_when_due()
        finally:
            stop_process_groups([generator])
        if generator.returncode != 0:
            raise SystemExit(f"bench.sendgen stopped with exit code {generator.returncode}")
        output.seek(0)
        return json.load(output)


def drain(stack: Stack, ids: list[int], *, timeout: float) -> tuple[float, int]:
    """Seconds until no accepted message is queued or sending, and how many still are at the end."""
    started = time.monotonic()
    while True:
        remaining = open_count(stack.tenant, ids)
        if remaining == 0 or time.monotonic() - started > timeout:
            return time.monotonic() - started, remaining
        time.sleep(POLL_SECONDS)
        stack.sweeper.run_when_due()


def run_scenario(stack: Stack, position: int, name: str, args) -> dict:
    paced = name == "paced100"
    rate = args.paced_rate if paced else 0.0
    count = round(args.paced_rate * args.paced_seconds) if paced else args.burst
    per_minute = round(args.paced_rate * 60 * 2) if paced else LIFTED_PER_MINUTE
    first = SCENARIOS[name] + position * 1_000_000  # a scenario repeated in one run gets new recipients
    configure(stack.tenant, stack.user, stack.phone, per_minute=per_minute)
    requeued_before = stack.sweeper.requeued
    sends_before = sim_sends(stack.sim_url)
    before = stack.usage()
    result = offer(
        stack,
        tag=f"{name}{position}x{secrets.token_hex(3)}",
        first=first,
        count=count,
        rate=rate,
        args=args,
    )
    answers = result["answers"]
    # request number → message id for each accepted request; two requests sharing an id would leave one
    # recipient without a send, so it is counted lost below
    accepted = {request: message_id for request, status, message_id, _, _ in answers if status == 202 and message_id}
    answered_at = {message_id: when for _, status, message_id, when, _ in answers if status == 202 and message_id}
    replay_ids = {replayed for _, _, _, replayed in result["replays"] if replayed}
    ids = sorted(set(accepted.values()) | replay_ids)
    drain_seconds, stuck = drain(stack, ids, timeout=args.timeout)
    time.sleep(1.0)  # Postgres flushes its statistics within ~1 s
    after = stack.usage()
    rss = max((tree_rss_mb(worker.pid) for worker in stack.workers), default=float("nan"))
    if args.py_spy:
        subprocess.run([str(ROOT / ".venv/bin/py-spy"), "dump", "--pid", str(stack.workers[0].pid)], check=False)  # noqa: S603

    sends = {recipient: n - sends_before.get(recipient, 0) for recipient, n in sim_sends(stack.sim_url).items()}
    rows = message_rows(stack.tenant, ids)
    state_of = {pk: state for pk, state, _ in rows}
    states: dict[str, int] = {}
    for _, state, _ in rows:
        states[state] = states.get(state, 0) + 1
    duplicates = sum(max(0, sends.get(str(first + request), 0) - 1) for request in accepted)
    replays_elsewhere = sum(1 for _, first_id, _, replayed in result["replays"] if replayed and replayed != first_id)
    lost = sum(
        1
        for request, message_id in accepted.items()
        if sends.get(str(first + request), 0) == 0
        and state_of.get(message_id) not in ("failed", "skipped", *OPEN_STATES)
    )
    # Sent although no 202 was seen (e.g. the client gave up waiting): not lost, worth knowing.
    unanswered_sent = sum(
        1 for request in range(count) if request not in accepted and sends.get(str(first + request), 0)
    )
    sent_at = {pk: sent for pk, state, sent in rows if state == "sent" and sent}
    sent_times = sorted(sent_at.values())
    span = (sent_times[-1] - sent_times[0]).total_seconds() if len(sent_times) > 1 else 0.0
    to_sent = [(sent.timestamp() - answered_at[pk]) * 1000 for pk, sent in sent_at.items() if pk in answered_at]
    offer_seconds = max((when for _, _, _, when, _ in answers), default=result["started"]) - result["started"]
    others: dict[str, int] = dict(result["errors"])
    for _, status, message_id, _, _ in answers:
        if status != 202 or not message_id:
            others[f"HTTP {status}"] = others.get(f"HTTP {status}", 0) + 1
    for _, _, status, replayed in result["replays"]:
        if status != 202 or not replayed:
            others[f"replay HTTP {status}"] = others.get(f"replay HTTP {status}", 0) + 1

    def ms_per_message(key: str) -> float:
        if not accepted or before[key] is None or after[key] is None:
            return float("nan")
        spent = after[key] - before[key]
        return (spent if key == "pg_ms" else spent * 1000) / len(accepted)

    return {
        "name": name,
        "offered": count,
        "rate": rate,
        "connections": args.connections,
        "accepted": len(accepted),
        "others": others,
        "offer_seconds": offer_seconds,
        "accepted_rate": len(accepted) / offer_seconds if offer_seconds > 0 else float("nan"),
        "api_p50": percentile([answer[4] * 1000 for answer in answers], 0.50),
        "api_p99": percentile([answer[4] * 1000 for answer in answers], 0.99),
        "drain": drain_seconds,
        "sent_rate": (len(sent_times) - 1) / span if span else float("nan"),
        "p50": percentile(to_sent, 0.50),
        "p99": percentile(to_sent, 0.99),
        "dup": duplicates + replays_elsewhere,
        "replays": len(result["replays"]),
        "replays_elsewhere": replays_elsewhere,
        "lost": lost,
        "stuck": stuck,
        "unanswered_sent": unanswered_sent,
        "worker_ms": ms_per_message("worker"),
        "sim_ms": ms_per_message("sim"),
        "web_ms": ms_per_message("web"),
        "pg_ms": ms_per_message("pg_ms") if after["pg_ms"] is not None else ms_per_message("pg_cpu"),
        "tx": (after["commits"] - before["commits"]) / len(accepted) if accepted else float("nan"),
        "rss": rss,
        "requeued": stack.sweeper.requeued - requeued_before,
        "states": states,
    }


def warm_up(stack: Stack, args) -> None:
    """A few sends first, so every web worker has imported and connected before anything is timed."""
    result = offer(
        stack,
        tag=f"warmup{secrets.token_hex(3)}",
        first=WARMUP_FIRST,
        count=10 * args.web_workers,
        rate=0.0,
        args=argparse.Namespace(**{**vars(args), "connections": 2 * args.web_workers, "replay_every": 0}),
    )
    ids = [message_id for _, status, message_id, _, _ in result["answers"] if status == 202 and message_id]
    if len(ids) < len(result["answers"]) or result["errors"]:
        statuses = sorted({status for _, status, _, _, _ in result["answers"]})
        raise SystemExit(f"warm-up sends were refused: statuses {statuses}, errors {result['errors']}")
    drain(stack, ids, timeout=args.timeout)


# --- the report


def print_tables(results: list[dict], pg_source: str) -> None:
    header = (
        f"{'scenario':<9} {'offered':>7} {'rate/s':>6} {'conns':>5} {'202':>6} {'other':>5} {'offer s':>7} "
        f"{'accepted/s':>10} {'API p50':>7} {'API p99':>7} {'drain s':>7} {'sent/s':>7} "
        f"{'→sent p50':>9} {'→sent p99':>9} {'dup':>4} {'lost':>4} {'stuck':>5}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        rate = "max" if not r["rate"] else f"{r['rate']:.0f}"
        print(
            f"{r['name']:<9} {r['offered']:>7} {rate:>6} {r['connections']:>5} {r['accepted']:>6} "
            f"{sum(r['others'].values()):>5} {r['offer_seconds']:>7.1f} {r['accepted_rate']:>10.1f} "
            f"{r['api_p50']:>7.1f} {r['api_p99']:>7.1f} {r['drain']:>7.1f} {r['sent_rate']:>7.1f} "
            f"{r['p50']:>9.0f} {r['p99']:>9.0f} {r['dup']:>4} {r['lost']:>4} {r['stuck']:>5}"
        )
    print(f"\nPer accepted message ({pg_source}):")
    header = (
        f"{'scenario':<9} {'worker CPU ms':>13} {'sim CPU ms':>10} {'web CPU ms':>10} {'PG ms':>6} {'PG tx':>5} "
        f"{'worker RSS MB':>13} {'requeued':>8}  states; notes"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        notes = [f"{kind}: {n}" for kind, n in sorted(r["others"].items())]
        notes.append(f"{r['replays']} replays, {r['replays_elsewhere']} answered with another message")
        if r["unanswered_sent"]:
            notes.append(f"{r['unanswered_sent']} sent without a 202 seen")
        states = " ".join(f"{state}={n}" for state, n in sorted(r["states"].items()))
        print(
            f"{r['name']:<9} {r['worker_ms']:>13.1f} {r['sim_ms']:>10.1f} {r['web_ms']:>10.1f} {r['pg_ms']:>6.1f} "
            f"{r['tx']:>5.1f} {r['rss']:>13.0f} {r['requeued']:>8}  {states}; {'; '.join(notes)}"
        )


def last_error(log: Path) -> str:
    """The last line of the last exception the web server logged (its logs are JSON lines)."""
    last = NO_ERROR
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return last
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("level") == "ERROR":
            text = str(entry.get("exc") or entry.get("msg") or "").strip()
            last = text.splitlines()[-1] if text else last
    return last


def print_targets(results: list[dict], *, smoke: bool) -> None:
    rows = []
    for r in results:
        if r["name"] == "burst":
            rows.append(("burst: sent ≥ 500 msg/s", f"{r['sent_rate']:.1f}", r["sent_rate"] >= TARGET_BURST_SENT_RATE))
        if r["name"] == "paced100":
            rows.append(("paced100: p99 202→sent < 1 s", f"{r['p99']:.0f} ms", r["p99"] < TARGET_PACED_P99_MS))
    rows.append(("duplicates: 0", str(sum(r["dup"] for r in results)), not any(r["dup"] for r in results)))
    rows.append(
        (
            "lost: 0 (and none stuck)",
            str(sum(r["lost"] + r["stuck"] for r in results)),
            not any(r["lost"] + r["stuck"] for r in results),
        )
    )
    print("\nTargets (a smoke run is too small to judge speed):" if smoke else "\nTargets:")
    for target, measured, met in rows:
        print(f"  {target:<32} {measured:>10}  {'met' if met else 'NOT met'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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

    # A stop (Ctrl-C or kill) unwinds through `finally`, so no server outlives the benchmark.
    signal.signal(signal.SIGTERM, lambda signum, frame: (_ for _ in ()).throw(KeyboardInterrupt()))
    services = Services(Path(tempfile.mkdtemp(prefix="aerostic-bench-")), persistent=False)
    children: list[subprocess.Popen] = []
    try:
        services.start()
        port, sim_port = free_port(), free_port()
        sim_url = f"http://127.0.0.1:{sim_port}"
        env = {
            **production_env(port),
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
        os.environ.update(env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aerostic.settings")
        import django

        django.setup()
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


if __name__ == "__main__":
    sys.exit(main())
