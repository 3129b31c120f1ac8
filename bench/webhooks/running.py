"""Running the stages of bench.webhooks against the started stack, and measuring each."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass

from bench.processes import start_workers
from bench.stack import percentile
from bench.webhooks.events import finished, inbound_check, newest_event_id, statuses, wait_until_processed
from bench.webhooks.stages import Stage, acknowledged_updates, fire
from devstack.run import stop_process_groups


def start_webhook_workers(count: int, env: dict[str, str]) -> list[subprocess.Popen]:
    """`rqworker --with-scheduler webhooks`, as `make run` starts its worker (retries are scheduled
    jobs), at a lower CPU priority than the web server."""
    return start_workers(count, env, queue="webhooks", nice=True)


@dataclass
class Stack:
    """What every stage needs from the running stack."""

    port: int
    env: dict[str, str]
    tenant: object
    rq_workers: int
    drain_after: bool
    drain_timeout: float
    children: list[subprocess.Popen]

    def check_running(self, when: str) -> None:
        """A stage against a stopped web server, worker or Redis measures nothing: stop instead."""
        from aerostic.core import queues

        for child in self.children:
            if child.poll() is not None:
                raise SystemExit(f"{' '.join(map(str, child.args[:6]))}… stopped (exit code {child.returncode}) {when}")
        try:
            queues.redis_connection().ping()
        except Exception as error:
            raise SystemExit(f"Redis stopped answering {when}: {error}") from error


def run_stage(stage: Stage, stack: Stack) -> dict:
    """Fires the stage, waits for processing, and measures and checks what it left."""
    stack.check_running("before the stage")
    after_id = newest_event_id()
    earlier = statuses(0)  # a stage that timed out leaves its backlog to compete with this one
    result = fire(stack.port, stack.env, stage)
    workers = start_webhook_workers(stack.rq_workers, stack.env) if stack.drain_after else []
    seen_done = wait_until_processed(after_id, result["ok"], stack.drain_timeout)
    stop_process_groups(workers)
    stack.check_running("during the stage")
    count, last, retried, late = finished(after_id)
    last = last or seen_done or time.time()  # processing that does not stamp processed_at: when we saw it
    if stage.kind == "status":
        from bench.statuses import status_check

        check = status_check(
            tenant=stack.tenant, tag=stage.tag, acknowledged=acknowledged_updates(stage, result["acked"])
        )
    else:
        check = inbound_check(stage.tag, after_id, result["acked"])
    by_status = statuses(after_id)
    latencies = [value * 1000 for value in result["latencies"]]
    return {
        "stage": stage,
        # Over the schedule's length, or until the last answer when that came later.
        "answered": result["ok"] / max(stage.requests / stage.rate, result["elapsed"]),
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
        "errors": dict(result["errors"]),
        "processed": count * stage.per_post / max(1e-9, last - result["started_wall"]),
        "drain": max(0.0, last - result["ended_wall"]) if seen_done is not None else float("inf"),
        "dead": by_status.get("dead", 0),
        "retried": retried,
        "late": late,
        "open": by_status.get("pending", 0) + by_status.get("processing", 0),
        "earlier": earlier.get("pending", 0) + earlier.get("processing", 0),
        **check,
    }


def warm_up(stack: Stack) -> None:
    """Every web worker imports and connects, and the workers have processed it, before any stage."""
    after_id = newest_event_id()
    result = fire(stack.port, stack.env, Stage("inbound", 50, 3, position=-1))
    if not stack.drain_after:
        wait_until_processed(after_id, result["ok"], stack.drain_timeout)
