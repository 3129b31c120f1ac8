"""`make bench-dispatch`: one campaign to 20,000 recipients through the batch engine, end to end.

Starts throwaway PostgreSQL + Redis (or uses DATABASE_URL / REDIS_URL) and the Graph API simulator
(`manage.py meta_simulator`, webhooks kept in its memory), migrates, creates one workspace connected
to the simulator's sandbox with an approved template taking two variables (first name, an order
attribute), then for each scenario: N new contacts in a new list, a draft campaign, K
`rqworker campaigns --with-scheduler` processes started and parked (RQ suspended), the launch
(checks + audience snapshot + batch jobs enqueued at commit; timed), RQ resumed, and a wait until
the campaign is completed. Scenarios:

- `unlimited`: SANDBOX_RATE_LIMITS off (the number's token bucket lifted): the engine's own speed
  (target ≥ 1,000 msg/s, Meta's ceiling for one number, with the simulator on the same cores);
- `bucket80`, `bucket250`: the number's bucket at 80 / 250 msg/s (`send_rate_limit`): the achieved
  rate must be within ±5 %;
- `snapshot`: only the launch of a campaign to N (default 100,000) contacts, then cancelled:
  the snapshot must take < 10 s.

    python -m bench.campaigns [--scenarios unlimited,bucket80,bucket250,snapshot]
                              [--recipients 20000] [--snapshot-recipients 100000] [--workers 2]

Columns: launch seconds (checks + snapshot + commit); seconds from resuming RQ until completed;
msg/s from the first to the last `sent_at` ((sent − 1) / span); p50 / p99 claim → sent in ms (the
Graph call in a chunk plus the bulk write after it); worker CPU ms per message (all workers' user +
system time / N); largest worker RSS at the end; duplicates (simulator sends beyond one per
recipient) and lost (recipients the simulator never got whose row is not failed or skipped).
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

from bench.processes import cpu_seconds, rss_mb, sim_sends, start_simulator, start_workers, wait_suspended  # noqa: E402
from bench.smoke import add_smoke_flag, apply_smoke  # noqa: E402
from bench.webhooks import manage, percentile, production_env  # noqa: E402
from devstack.run import stop_process_groups, wait_for_port  # noqa: E402
from devstack.services import Services, free_port  # noqa: E402

SCENARIOS = {
    # name: (per-number cap in msg/s or None, target rate to check or None)
    "unlimited": (None, None),
    "bucket80": (80, 80.0),
    "bucket250": (250, 250.0),
    "snapshot": (None, None),
}
TOLERANCE = 0.05
SNAPSHOT_TARGET_SECONDS = 10.0
TEMPLATE = {
    "name": "order_shipped",
    "components": [
        {"type": "BODY", "text": "Hi {{1}}, order {{2}} is on its way.", "example": {"body_text": [["Asha", "A-1"]]}}
    ],
}
MAPPING = {
    "body": {
        "1": {"source": "field", "value": "first_name", "fallback": "there"},
        "2": {"source": "attribute", "value": "order"},
    }
}


def prepare(sim_url: str):
    """One workspace, sandbox-connected through the real service, limits lifted except the bucket,
    and an approved two-variable template (submitted through the service, approved by the simulator)."""
    from accounts.models import User
    from aerostic.core.tenant_context import tenant_context
    from contacts.models import AttributeDefinition
    from tenants.models import Tenant
    from whatsapp.connections.connect import sandbox_connect
    from whatsapp.message_templates.services import template_draft_save, template_submit, templates_sync
    from whatsapp.models import MessageTemplate, PhoneNumber

    tenant, _ = Tenant.objects.get_or_create(slug="bench", defaults={"name": "Bench", "default_country": "IN"})
    Tenant.objects.filter(pk=tenant.pk).update(messages_per_minute=100_000_000, campaign_sends_per_day=100_000_000)
    tenant.refresh_from_db()
    user = User.objects.filter(email="bench@example.test").first() or User.objects.create_user("bench@example.test")
    account = sandbox_connect(tenant=tenant, actor=user)
    draft, _problems = template_draft_save(
        account=account,
        name=TEMPLATE["name"],
        language="en_US",
        category="UTILITY",
        components=TEMPLATE["components"],
        actor=user,
    )
    with tenant_context(tenant):
        template = template_submit(template=draft, actor=user)
        requests.post(
            f"{sim_url}/_sim/templates/{template.meta_template_id}/status", json={"status": "APPROVED"}, timeout=10
        )
        templates_sync(account=account)
        template = MessageTemplate.objects.get(pk=template.pk)
        assert template.status == "APPROVED", template.status
        AttributeDefinition.objects.get_or_create(
            tenant_id=tenant.pk, key="order", defaults={"label": "Order", "kind": AttributeDefinition.Kind.TEXT}
        )
        phone = PhoneNumber.objects.select_related("account").get(account=account)
    return tenant, user, phone, template


def make_audience(tenant, name: str, first: int, count: int):
    """`count` contacts with new Indian mobile numbers (+91 9…), in a new list, written in bulk."""
    from aerostic.core.tenant_context import tenant_context
    from contacts import phones
    from contacts.importing.writing import add_to_list
    from contacts.models import ContactList
    from contacts.rows import ImportRow, insert_contacts

    with tenant_context(tenant):
        contact_list = ContactList.objects.create(tenant_id=tenant.pk, name=name)
        for start in range(0, count, 5000):
            rows = []
            for offset in range(start, min(count, start + 5000)):
                number = phones.normalize(f"+91 9{first + offset:09d}")
                rows.append(
                    ImportRow.of(
                        number,
                        tenant_id=tenant.pk,
                        number=offset,
                        name=f"Person {offset}",
                        attributes={"order": f"A-{offset}"},
                    )
                )
            created = insert_contacts(rows)
            add_to_list(contact_list.pk, list(created.values()))
    return contact_list


def configure(tenant, phone, cap: int | None) -> None:
    from aerostic.core.tenant_context import tenant_context
    from whatsapp.models import PhoneNumber

    with tenant_context(tenant):
        PhoneNumber.objects.filter(pk=phone.pk).update(
            throughput_level="HIGH", messaging_limit_tier="TIER_UNLIMITED", send_rate_limit=cap
        )


def campaign_draft(tenant, user, phone, template, contact_list, name: str):
    from aerostic.core.tenant_context import tenant_context
    from campaigns.services import campaign_create

    with tenant_context(tenant):
        return campaign_create(
            name=name,
            phone_number_id=phone.pk,
            variants=[{"template_id": template.pk, "percentage": 100, "mapping": MAPPING}],
            list_ids=[contact_list.pk],
            actor=user,
        )


def launch(tenant, user, campaign) -> float:
    from aerostic.core.tenant_context import tenant_context
    from campaigns.services import campaign_launch

    started = time.perf_counter()
    with tenant_context(tenant):
        campaign_launch(campaign=campaign, actor=user)
    return time.perf_counter() - started


def campaign_status(tenant, campaign) -> str:
    from aerostic.core.tenant_context import tenant_context
    from campaigns.models import Campaign

    with tenant_context(tenant):
        return Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True).get()


def recipient_rows(tenant, campaign) -> list[tuple]:
    from aerostic.core.tenant_context import tenant_context
    from campaigns.models import CampaignMessage

    with tenant_context(tenant):
        rows = CampaignMessage.objects.filter(campaign=campaign).values_list(
            "contact__phone", "state", "claimed_at", "sent_at"
        )
        return [
            (phone.reveal().lstrip("+") if phone else "", state, claimed, sent) for phone, state, claimed, sent in rows
        ]


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


def cpu_with_children(pid: int) -> float:
    """User + system CPU of a process and of its children that exited (Postgres backends come and go)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


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


def profile_in_process(tenant, user, campaign, count: int) -> None:
    """--profile: the batches run here under cProfile (no workers); prints where the time goes."""
    import cProfile
    import pstats

    from aerostic.core.tenant_context import tenant_context
    from campaigns import engine

    launch(tenant, user, campaign)
    from aerostic.core import queues

    queues.get_queue(queues.CAMPAIGNS).empty()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    with tenant_context(tenant):
        batches = engine.batches_of(campaign)
        profiler.enable()
        for batch in batches:
            engine.send_batch(campaign.pk, batch)
        profiler.disable()
    seconds = time.perf_counter() - started
    print(f"{count} recipients in one process: {seconds:.1f} s, {count / seconds:.0f} msg/s")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(35)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    for name in ("outbound_store_many", "claim", "judge", "record$"):
        pstats.Stats(profiler).sort_stats("cumulative").print_callees(name)
    raise SystemExit(0)


def print_hot_spots(raw: Path, top: int = 60) -> None:
    """--py-spy: where one worker's CPU went (on-CPU samples of all its threads), by function:
    self samples (the function itself) and total (with what it called)."""
    own: dict[str, int] = {}
    total: dict[str, int] = {}
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        samples += n
        frames = [frame.split(" (")[0] + " " + frame.rsplit("/", 1)[-1].rstrip(")") for frame in stack.split(";")]
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for frame in set(frames):
            total[frame] = total.get(frame, 0) + n
    print(f"\npy-spy: {samples} on-CPU samples of one worker")
    for title, table in (("self", own), ("total", total)):
        print(f"-- by {title}")
        for frame, n in sorted(table.items(), key=lambda item: -item[1])[:top]:
            print(f"{100 * n / max(1, samples):5.1f}%  {frame}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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

    signal.signal(signal.SIGTERM, lambda signum, frame: (_ for _ in ()).throw(KeyboardInterrupt()))
    services = Services(Path(tempfile.mkdtemp(prefix="aerostic-bench-")), persistent=False)
    children: list[subprocess.Popen] = []
    try:
        services.start()
        sim_port = free_port()
        sim_url = f"http://127.0.0.1:{sim_port}"
        env = {
            **production_env(free_port()),
            "SANDBOX_ENABLED": "true",
            "META_SANDBOX_URL": sim_url,
            "SANDBOX_RATE_LIMITS": "false",
        }
        print("Preparing: migrate, the simulator, one sandbox-connected workspace, a template…", flush=True)
        manage(env, "migrate", "--noinput", "-v", "0")
        children.append(start_simulator(sim_port, env))
        wait_for_port(sim_port, timeout=30)
        os.environ.update(env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aerostic.settings")
        import django

        django.setup()
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


if __name__ == "__main__":
    sys.exit(main())
