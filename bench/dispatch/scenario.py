"""One scenario of bench.dispatch: the load offered by bench.sendgen while the sweeper runs, the
drain, and what the stack spent and the messages became."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time

from bench.dispatch.workspace import OPEN_STATES, configure, message_rows, open_count
from bench.processes import ROOT, pg_commits, pg_statement_ms, sim_sends, tree_cpu_seconds, tree_rss_mb
from bench.stack import percentile
from devstack.run import stop_process_groups

# First recipient per scenario: Indian mobile numbers (+91 9…), valid for phonenumbers.
SCENARIOS = {"burst": 919810000000, "paced100": 919820000000}
WARMUP_FIRST = 919800000000
LIFTED_PER_MINUTE = 10_000_000
POLL_SECONDS = 0.5


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
