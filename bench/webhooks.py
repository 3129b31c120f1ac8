"""`make bench-webhooks`: the webhook intake under rising load, end to end.

Starts throwaway PostgreSQL + Redis (or uses DATABASE_URL / REDIS_URL), migrates, creates one
workspace with one connected number, then runs gunicorn (uvicorn workers, aerostic.asgi) with
production settings and RQ workers on the `webhooks` queue. For each offered rate a separate
process (bench.loadgen) fires signed POSTs, each carrying one new inbound message, on a fixed
schedule; then we wait until every stored event is processed and count what was acknowledged,
stored and turned into messages.

    python -m bench.webhooks [--rates 100,500,1000,2000] [--duration 10] [--web-workers N] [--rq-workers N]

Columns: offered and achieved rate (answers per second), ACK latency percentiles measured from
when each request was due, errors (non-200 answers and failed connections), seconds from the end
of the stage until the queue had processed every event, lost (acknowledged − stored), duplicated
(stored events or messages beyond one per delivery).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.smoke import add_smoke_flag, apply_smoke  # noqa: E402
from devstack.run import stop_process_groups, wait_for_port, web_server_command  # noqa: E402
from devstack.services import Services, free_port  # noqa: E402

PHONE_ID, WABA_ID = "109000000000001", "209000000000001"
NICE = shutil.which("nice") or "nice"


def production_env(port: int) -> dict[str, str]:
    """Production mode with throwaway secrets. The per-IP limit is lifted because every request
    comes from one address here, while Meta delivers from many. Production requires an SMTP
    EMAIL_URL; the benches send no mail, so nothing needs to listen on its port."""
    return {
        **os.environ,
        "DJANGO_ENV": "production",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "TOKEN_ENCRYPTION_KEYS": "bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "BLIND_INDEX_KEY": secrets.token_urlsafe(32),
        "META_APP_SECRET": secrets.token_hex(16),
        "META_WEBHOOK_VERIFY_TOKEN": secrets.token_urlsafe(16),
        "ALLOWED_HOSTS": "127.0.0.1",
        "EMAIL_URL": "smtp://127.0.0.1:1025",
        "CSRF_TRUSTED_ORIGINS": f"https://127.0.0.1:{port}",
        "TRUSTED_PROXY_COUNT": "0",
        "WEBHOOK_RATE_PER_MINUTE": "10000000",
        "LOG_LEVEL": "WARNING",
    }


def create_workspace() -> None:
    from tenants.context import tenant_context
    from tenants.models import Tenant
    from whatsapp.models import PhoneNumber, WhatsAppAccount

    tenant, _ = Tenant.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    with tenant_context(tenant):
        account, _ = WhatsAppAccount.objects.get_or_create(waba_id=WABA_ID, defaults={"name": "Bench"})
        PhoneNumber.objects.get_or_create(
            account=account, phone_number_id=PHONE_ID, defaults={"display_phone_number": "+1 555 010 0100"}
        )


def newest_event_id() -> int:
    """Taken before a stage: the stage's events are the ones stored after it (bodies are encrypted,
    so no query can pick them out by their wamids)."""
    from django.db import connection

    from tenants.context import platform_context

    with platform_context("benchmark counts"), connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM whatsapp_webhookevent")
        return cursor.fetchone()[0]


def statuses(after_id: int) -> dict:
    """The stage's events by status (cheap enough to poll while the queue drains)."""
    from django.db import connection

    from tenants.context import platform_context

    with platform_context("benchmark counts"), connection.cursor() as cursor:
        cursor.execute("SELECT status, count(*) FROM whatsapp_webhookevent WHERE id > %s GROUP BY status", [after_id])
        return dict(cursor.fetchall())


def counts(tag: str, after_id: int) -> dict:
    """What the stage left in the database: events by status, which deliveries were stored (their
    bodies decrypted once, after the drain), duplicated events and messages."""
    import re

    from django.db import connection

    from tenants.context import platform_context
    from whatsapp.models import WebhookEvent

    wamid = re.compile(rf"wamid\.{re.escape(tag)}\.([0-9]+)")
    with platform_context("benchmark counts"):
        bodies = [
            body.reveal() for body in WebhookEvent.all_tenants.filter(pk__gt=after_id).values_list("body", flat=True)
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) - count(DISTINCT wamid) FROM inbox_message WHERE wamid LIKE %s", [f"wamid.{tag}.%"]
            )
            duplicate_messages = cursor.fetchone()[0]
    stored = {int(match.group(1)) for body in bodies if (match := wamid.search(body))}
    duplicate_events = len(bodies) - len(set(bodies))
    return {"statuses": statuses(after_id), "duplicated": duplicate_events + duplicate_messages, "stored": stored}


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, text=True, capture_output=True
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def wait_until_processed(tag: str, after_id: int, expected: int, timeout: float) -> tuple[float, dict]:
    start = time.monotonic()
    while True:
        by_status = statuses(after_id)
        open_events = by_status.get("pending", 0) + by_status.get("processing", 0)
        if open_events == 0 and sum(by_status.values()) >= expected:
            return time.monotonic() - start, counts(tag, after_id)
        if time.monotonic() - start > timeout:
            return float("inf"), counts(tag, after_id)
        time.sleep(0.5)


def start_workers(count: int, env: dict[str, str]) -> list[subprocess.Popen]:
    workers = []
    for _ in range(count):
        worker = subprocess.Popen(  # noqa: S603
            # Lower CPU priority: on a shared 2-core box, answering Meta within its deadline matters
            # more than processing a moment sooner (production runs them apart).
            [NICE, "-n", "10", sys.executable, "manage.py", "rqworker", "webhooks", "--verbosity", "0"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
        )
        lower_group_priority(worker.pid)
        workers.append(worker)
    return workers


def lower_group_priority(pid: int) -> None:
    """With Linux's autogroup scheduling a process's nice value only counts inside its session:
    lower the session's own priority too, where the kernel offers it."""
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/autogroup").write_text("10")


def start_web_server(port: int, env: dict[str, str], workers: int, log: Path | None = None) -> subprocess.Popen:
    """gunicorn with uvicorn workers serving aerostic.asgi, as production runs it (Procfile); its
    logs go to `log` when given (a table is unreadable between tracebacks), else to our stderr."""
    command = web_server_command(port, workers, "--backlog", "4096", "--log-level", "warning")
    if log is None:
        return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as stderr:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True, stderr=stderr)  # noqa: S603


def fire(port: int, env: dict[str, str], tag: str, rate: float, duration: float) -> dict:
    """Runs the load generator in its own process and returns its JSON result."""
    loadgen = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "bench.loadgen",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--secret",
            env["META_APP_SECRET"],
            "--phone-id",
            PHONE_ID,
            "--waba-id",
            WABA_ID,
            "--tag",
            tag,
            "--rate",
            str(rate),
            "--duration",
            str(duration),
        ],
        cwd=ROOT,
        text=True,
        capture_output=True,
        check=True,
    )
    return json.loads(loadgen.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="100,500,1000,2000")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--web-workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--rq-workers", type=int, default=2)
    parser.add_argument(
        "--drain-after",
        action="store_true",
        help="start the RQ workers only after each stage's load (the web tier alone, as when the workers "
        "run on other machines); by default they process while the load runs, on the same cores",
    )
    parser.add_argument("--drain-timeout", type=float, default=600.0)
    add_smoke_flag(parser)
    args = parser.parse_args()
    apply_smoke(args, parser, rates="50,200", duration=2.0, web_workers=2, rq_workers=1, drain_timeout=120.0)
    rates = [float(rate) for rate in args.rates.split(",")]

    # A stop (Ctrl-C or kill) unwinds through `finally`, so no server outlives the benchmark.
    signal.signal(signal.SIGTERM, lambda signum, frame: (_ for _ in ()).throw(KeyboardInterrupt()))
    services = Services(Path(tempfile.mkdtemp(prefix="aerostic-bench-")), persistent=False)
    children: list[subprocess.Popen] = []
    workers: list[subprocess.Popen] = []
    try:
        services.start()
        port = free_port()
        env = production_env(port)
        print("Preparing: migrate, one workspace with one number…", flush=True)
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "collectstatic", "--noinput", "-v", "0")
        os.environ.update(env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aerostic.settings")
        import django

        django.setup()
        create_workspace()
        children.append(start_web_server(port, env, args.web_workers))
        workers: list[subprocess.Popen] = [] if args.drain_after else start_workers(args.rq_workers, env)
        children.extend(workers)
        wait_for_port(port, timeout=30)
        print(
            f"gunicorn: {args.web_workers} uvicorn workers; RQ workers on `webhooks`: {args.rq_workers}"
            f"{' (started after each stage)' if args.drain_after else ' (processing during the load)'}; "
            f"{args.duration:.0f} s per rate; {os.cpu_count()} CPU cores\n",
            flush=True,
        )
        header = (
            f"{'offered/s':>9} {'achieved/s':>10} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>8} {'errors':>7} "
            f"{'drain s':>8} {'lost':>5} {'dup':>4}  notes"
        )
        print(header)
        print("-" * len(header), flush=True)
        problems = []
        fire(port, env, f"warmup{secrets.token_hex(3)}", 50, 3)  # every web worker imports, connects
        for rate in rates:
            tag = f"bench{int(rate)}x{secrets.token_hex(3)}"
            after_id = newest_event_id()
            result = fire(port, env, tag, rate, args.duration)
            if args.drain_after:
                workers = start_workers(args.rq_workers, env)
            drain, state = wait_until_processed(tag, after_id, result["ok"], args.drain_timeout)
            if args.drain_after:
                stop_process_groups(workers)
            lost = len(set(result["acked"]) - state["stored"])
            errors = sum(result["errors"].values())
            latencies = [value * 1000 for value in result["latencies"]]
            notes = ", ".join(f"{kind}: {count}" for kind, count in sorted(result["errors"].items()))
            dead = state["statuses"].get("dead", 0)
            if dead:
                notes = f"{notes}, dead: {dead}".lstrip(", ")
            duplicated = state["duplicated"]
            print(
                f"{rate:>9.0f} {len(latencies) / result['elapsed']:>10.0f} {percentile(latencies, 0.50):>7.1f} "
                f"{percentile(latencies, 0.95):>7.1f} {percentile(latencies, 0.99):>8.1f} {errors:>7} "
                f"{drain:>8.1f} {lost:>5} {duplicated:>4}  {notes}",
                flush=True,
            )
            if lost or duplicated or dead or drain == float("inf"):
                problems.append(f"{rate:.0f}/s: {lost} lost, {duplicated} duplicated, {dead} dead, drain {drain:.1f} s")
            if args.smoke and errors:
                problems.append(f"{rate:.0f}/s: {errors} errors at a rate any machine answers ({notes})")
        for problem in problems:
            print(f"FAIL: {problem}")
        return 1 if problems else 0
    finally:
        stop_process_groups(children + (workers if args.drain_after else []))
        services.stop()
        services.delete()


if __name__ == "__main__":
    sys.exit(main())
