"""`make bench-dispatch`: one-off template sends through the dispatcher, end to end.

Starts throwaway PostgreSQL + Redis (or uses DATABASE_URL / REDIS_URL) and the Graph API
simulator (`manage.py meta_simulator`, webhooks kept in its memory), migrates, creates one
workspace connected to the simulator's sandbox, then for each scenario: suspends RQ, starts K
`rqworker sends --with-scheduler` processes and waits until all are up, enqueues N `hello_world`
(UTILITY) sends to N new recipients with `message_enqueue` in one transaction (the jobs go on the
`sends` queue at commit), resumes RQ and waits until no message is queued or sending, running
`sweep_outbound` in this process every second. Scenarios:

- `unlimited`: throughput level HIGH (1,000 msg/s bucket), per-minute limit lifted, TIER_UNLIMITED;
  how fast one message per job goes through the dispatcher.
- `bucket80`: throughput level STANDARD, so the number's token bucket allows 80 msg/s; the
  achieved rate must be within ±5 % of 80.

    python -m bench.dispatch [--recipients 5000,2000] [--workers 4] [--scenarios unlimited,bucket80]

Columns: seconds from resuming RQ until no message was open; msg/s from the first to the last
`sent_at` ((sent − 1) / span); p50/p99 claim → sent in ms (`claimed_at` to `sent_at`: the Graph
call plus the bookkeeping around it); RQ jobs executed (a refused token or pair is a hold, re-run
later: jobs/message shows the cost of holding); worker CPU ms per message (all workers' user +
system time over the scenario / N); Postgres transactions committed per message (pg_stat_database,
including the bench's own polling, ~2 a second); largest worker RSS at the end; duplicates (simulator
sends beyond one per recipient); lost (recipients the simulator never got whose message is not
failed or skipped); message states.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.smoke import add_smoke_flag, apply_smoke  # noqa: E402
from bench.webhooks import manage, percentile, production_env  # noqa: E402
from devstack.run import stop_process_groups, wait_for_port  # noqa: E402
from devstack.services import Services, free_port  # noqa: E402

CONTENT = {"type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}}}
SCENARIOS = {
    # name: (throughput level, first recipient: India mobile numbers, valid for phonenumbers)
    "unlimited": ("HIGH", 919810000000),
    "bucket80": ("STANDARD", 919820000000),
}
TARGET_RATE, TOLERANCE = 80.0, 0.05


def prepare(sim_url: str):
    """One workspace, sandbox-connected through the real service; limits lifted except the bucket."""
    from accounts.models import User
    from tenants.context import tenant_context
    from tenants.models import Tenant
    from whatsapp.models import MessageTemplate, PhoneNumber
    from whatsapp.services import sandbox_connect

    tenant, _ = Tenant.objects.get_or_create(slug="bench", defaults={"name": "Bench", "default_country": "IN"})
    Tenant.objects.filter(pk=tenant.pk).update(messages_per_minute=10_000_000)
    user = User.objects.filter(email="bench@example.test").first() or User.objects.create_user("bench@example.test")
    account = sandbox_connect(tenant=tenant, actor=user)
    with tenant_context(tenant):
        phone = PhoneNumber.objects.select_related("account").get(account=account)
        template = MessageTemplate.objects.get(account=account, name="hello_world")
    return tenant, phone, template


def configure(tenant, phone, level: str) -> None:
    from tenants.context import tenant_context
    from whatsapp.models import PhoneNumber

    with tenant_context(tenant):
        PhoneNumber.objects.filter(pk=phone.pk).update(throughput_level=level, messaging_limit_tier="TIER_UNLIMITED")


def enqueue(tenant, phone, template, first: int, count: int) -> dict[int, str]:
    """message_enqueue × count in one transaction: the jobs are enqueued one by one at commit."""
    from django.db import transaction

    from tenants.context import tenant_context
    from whatsapp.dispatch import message_enqueue
    from whatsapp.models import PhoneNumber

    ids: dict[int, str] = {}
    with tenant_context(tenant):
        phone = PhoneNumber.objects.select_related("account", "tenant").get(pk=phone.pk)
        with transaction.atomic():
            for number in range(first, first + count):
                message = message_enqueue(
                    phone=phone, to=str(number), content=CONTENT, category="UTILITY", origin="api", template=template
                )
                ids[message.pk] = str(number)
    return ids


def open_count(tenant, ids: dict[int, str]) -> int:
    from tenants.context import tenant_context
    from whatsapp.models import OutboundMessage

    with tenant_context(tenant):
        return OutboundMessage.objects.filter(pk__in=list(ids), state__in=("queued", "sending")).count()


def rows(tenant, ids: dict[int, str]) -> list[tuple]:
    from tenants.context import tenant_context
    from whatsapp.models import OutboundMessage

    with tenant_context(tenant):
        return list(
            OutboundMessage.objects.filter(pk__in=list(ids)).values_list("pk", "state", "claimed_at", "sent_at")
        )


def start_simulator(port: int, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "meta_simulator", "--port", str(port), "--webhook-url", ""],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
    )


def start_workers(count: int, env: dict[str, str], queue: str = "sends") -> list[subprocess.Popen]:
    return [
        subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "rqworker", queue, "--with-scheduler", "--verbosity", "0"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]


def rq_workers() -> list:
    from rq import Worker

    from aerostic import queues

    return Worker.all(connection=queues.redis_connection())


def wait_suspended(count: int, timeout: float = 60) -> None:
    """Until `count` workers are booted and parked in RQ's suspension loop."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(1 for worker in rq_workers() if worker.get_state() == "suspended") >= count:
            return
        time.sleep(0.2)
    raise SystemExit(f"{count} RQ workers did not start within {timeout:.0f} s")


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pg_commits() -> int:
    """Transactions committed in this database so far (Postgres flushes these statistics within ~1 s)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def sim_sends(sim_url: str) -> dict[str, int]:
    return requests.get(f"{sim_url}/_sim/requests", timeout=30).json()["sends_per_recipient"]


def run_scenario(index: int, name: str, count: int, workers: int, env, tenant, phone, template, sim_url, args) -> dict:
    from rq.suspension import resume, suspend

    from aerostic import queues
    from whatsapp.jobs import sweep_outbound

    level, first = SCENARIOS[name]
    first += index * 1_000_000  # a scenario repeated in one run gets new recipients
    configure(tenant, phone, level)
    redis = queues.redis_connection()
    suspend(redis)
    procs = start_workers(workers, env)
    try:
        wait_suspended(workers)
        started = time.perf_counter()
        ids = enqueue(tenant, phone, template, first, count)
        sends_before = sim_sends(sim_url)
        enqueue_seconds = time.perf_counter() - started
        jobs_before = sum(worker.successful_job_count + worker.failed_job_count for worker in rq_workers())
        cpu_before = sum(cpu_seconds(proc.pid) for proc in procs)
        time.sleep(1.5)
        commits_before = pg_commits()
        resume(redis)
        started = time.monotonic()
        sweeps = requeued = 0
        while True:
            time.sleep(args.sweep_every)
            requeued += sweep_outbound()["requeued"]
            sweeps += 1
            if open_count(tenant, ids) == 0:
                break
            if time.monotonic() - started > args.timeout:
                break
        seconds = time.monotonic() - started
        time.sleep(1.5)  # the workers report their job counts, Postgres its statistics
        jobs = sum(worker.successful_job_count + worker.failed_job_count for worker in rq_workers()) - jobs_before
        cpu = sum(cpu_seconds(proc.pid) for proc in procs) - cpu_before
        commits = pg_commits() - commits_before
        rss = max(rss_mb(proc.pid) for proc in procs)
        if args.py_spy:
            subprocess.run([str(ROOT / ".venv/bin/py-spy"), "dump", "--pid", str(procs[0].pid)], check=False)  # noqa: S603
    finally:
        stop_process_groups(procs)

    found = rows(tenant, ids)
    sends = {recipient: n - sends_before.get(recipient, 0) for recipient, n in sim_sends(sim_url).items()}
    states: dict[str, int] = {}
    for _, state, _, _ in found:
        states[state] = states.get(state, 0) + 1
    sent_times = sorted(sent for _, state, _, sent in found if state == "sent" and sent)
    span = (sent_times[-1] - sent_times[0]).total_seconds() if len(sent_times) > 1 else 0.0
    latencies = [(sent - claimed).total_seconds() * 1000 for _, _, claimed, sent in found if claimed and sent]
    by_pk = {pk: state for pk, state, _, _ in found}
    lost = sum(
        1
        for pk, recipient in ids.items()
        if sends.get(recipient, 0) == 0 and by_pk.get(pk) not in ("failed", "skipped")
    )
    return {
        "name": name,
        "level": level,
        "count": count,
        "workers": workers,
        "enqueue": enqueue_seconds,
        "seconds": seconds,
        "rate": (len(sent_times) - 1) / span if span else float("nan"),
        "p50": percentile(latencies, 0.50),
        "p99": percentile(latencies, 0.99),
        "jobs": jobs,
        "cpu_ms": 1000 * cpu / count,
        "tx": commits / count,
        "rss": rss,
        "dup": sum(max(0, sends.get(recipient, 0) - 1) for recipient in ids.values()),
        "lost": lost,
        "states": states,
        "requeued": requeued,
        "timed_out": seconds > args.timeout,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", default="unlimited,bucket80")
    parser.add_argument("--recipients", default="5000,2000", help="per scenario, in order (one value: all)")
    parser.add_argument("--workers", default="4", help="RQ workers per scenario, in order (one value: all)")
    parser.add_argument("--sweep-every", type=float, default=1.0, help="seconds between in-process sweeps")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds a scenario may take to drain")
    parser.add_argument("--py-spy", action="store_true", help="py-spy dump one worker at the end of each scenario")
    add_smoke_flag(parser)
    args = parser.parse_args()
    apply_smoke(args, parser, recipients="200,160", workers="2", timeout=120.0)
    if args.recipients and max(int(value) for value in args.recipients.split(",")) > 1_000_000:
        parser.error("at most 1,000,000 recipients per scenario")
    names = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = set(names) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}; known: {sorted(SCENARIOS)}")
    recipients = [int(value) for value in args.recipients.split(",")]
    workers = [int(value) for value in args.workers.split(",")]
    recipients += [recipients[-1]] * (len(names) - len(recipients))
    workers += [workers[-1]] * (len(names) - len(workers))

    signal.signal(signal.SIGTERM, lambda signum, frame: (_ for _ in ()).throw(KeyboardInterrupt()))
    services = Services(Path(tempfile.mkdtemp(prefix="aerostic-bench-")), persistent=False)
    children: list[subprocess.Popen] = []
    try:
        services.start()
        sim_port = free_port()
        sim_url = f"http://127.0.0.1:{sim_port}"
        env = {**production_env(free_port()), "SANDBOX_ENABLED": "true", "META_SANDBOX_URL": sim_url}
        print("Preparing: migrate, the simulator, one sandbox-connected workspace…", flush=True)
        manage(env, "migrate", "--noinput", "-v", "0")
        children.append(start_simulator(sim_port, env))
        wait_for_port(sim_port, timeout=30)
        os.environ.update(env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aerostic.settings")
        import django

        django.setup()
        tenant, phone, template = prepare(sim_url)
        print(
            f"simulator at {sim_url} (webhooks kept in memory); {os.cpu_count()} CPU cores; "
            f"sweep_outbound every {args.sweep_every:g} s in this process\n",
            flush=True,
        )
        header = (
            f"{'scenario':<10} {'level':<8} {'recips':>6} {'workers':>7} {'enq s':>6} {'seconds':>7} {'msg/s':>7} "
            f"{'p50 ms':>7} {'p99 ms':>7} {'jobs':>6} {'cpu ms':>6} {'tx':>5} {'RSS MB':>6} {'dup':>4} {'lost':>4}"
            "  states"
        )
        print(header)
        print("-" * len(header), flush=True)
        problems = []
        for index, (name, count, worker_count) in enumerate(zip(names, recipients, workers, strict=True)):
            r = run_scenario(index, name, count, worker_count, env, tenant, phone, template, sim_url, args)
            states = " ".join(f"{state}={n}" for state, n in sorted(r["states"].items()))
            print(
                f"{r['name']:<10} {r['level']:<8} {r['count']:>6} {r['workers']:>7} {r['enqueue']:>6.1f} "
                f"{r['seconds']:>7.1f} {r['rate']:>7.1f} {r['p50']:>7.1f} {r['p99']:>7.1f} {r['jobs']:>6} "
                f"{r['cpu_ms']:>6.1f} {r['tx']:>5.1f} {r['rss']:>6.0f} {r['dup']:>4} {r['lost']:>4}  {states}"
                f" (sweeper requeued {r['requeued']})",
                flush=True,
            )
            if r["timed_out"]:
                problems.append(f"{name}: messages still open after {args.timeout:.0f} s")
            if r["dup"] or r["lost"]:
                problems.append(f"{name}: {r['dup']} duplicated, {r['lost']} lost")
            if name == "bucket80" and not args.smoke and not abs(r["rate"] - TARGET_RATE) <= TARGET_RATE * TOLERANCE:
                problems.append(f"bucket80: {r['rate']:.1f} msg/s is not within ±5 % of {TARGET_RATE:g}")
        for problem in problems:
            print(f"FAIL: {problem}")
        return 1 if problems else 0
    finally:
        stop_process_groups(children)
        services.stop()
        services.delete()


if __name__ == "__main__":
    sys.exit(main())
