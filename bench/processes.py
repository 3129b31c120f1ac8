"""The processes the benchmarks start and measure (bench.webhooks, bench.dispatch, bench.campaigns):
the simulator and RQ workers as child processes, CPU time and memory of process trees from /proc, what the simulator
received, and Postgres' own counters."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import requests

from devstack.services import Services

ROOT = Path(__file__).resolve().parent.parent
NICE = shutil.which("nice") or "nice"

# --- processes


def start_simulator(port: int, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "meta_simulator", "--port", str(port), "--webhook-url", ""],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
    )


def start_workers(
    count: int, env: dict[str, str], queue: str = "sends", log: Path | None = None, *, nice: bool = False
) -> list[subprocess.Popen]:
    """`count` RQ workers; their logs go to `log` when given, else to our stderr. `nice`: at a lower
    CPU priority (bench.webhooks: on a shared 2-core box, answering Meta within its deadline matters
    more than processing a moment sooner; production runs them apart)."""
    command = [sys.executable, "manage.py", "rqworker", queue, "--with-scheduler", "--verbosity", "0"]
    if nice:
        command = [NICE, "-n", "10", *command]
    stderr = None
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        stderr = log.open("w")
    try:  # each child keeps its own copy of the descriptor
        workers = [
            subprocess.Popen(  # noqa: S603
                command, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=stderr
            )
            for _ in range(count)
        ]
    finally:
        if stderr is not None:
            stderr.close()
    if nice:
        for worker in workers:
            lower_group_priority(worker.pid)
    return workers


def lower_group_priority(pid: int) -> None:
    """With Linux's autogroup scheduling a process's nice value only counts inside its session:
    lower the session's own priority too, where the kernel offers it."""
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/autogroup").write_text("10")


def rq_workers() -> list:
    from rq import Worker

    from aerostic.core import queues

    return Worker.all(connection=queues.redis_connection())


def wait_suspended(count: int, timeout: float = 60) -> None:
    """Until `count` workers are booted and parked in RQ's suspension loop."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(1 for worker in rq_workers() if worker.get_state() == "suspended") >= count:
            return
        time.sleep(0.2)
    raise SystemExit(f"{count} RQ workers did not start within {timeout:.0f} s")


def wait_registered(count: int, timeout: float = 60) -> None:
    """Until `count` workers have registered with RQ (booted, listening)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(rq_workers()) >= count:
            return
        time.sleep(0.2)
    raise SystemExit(f"{count} RQ workers did not start within {timeout:.0f} s")


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from field 3 (state) on: the command name before it may hold spaces."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


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
    fields = _stat(pid)
    if fields is None:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_with_children(pid: int) -> float:
    """User + system CPU of a process and of its children that exited (Postgres backends come and go)."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """The process and its live descendants (gunicorn's workers, Postgres' backends, a forking worker)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending.extend(children.get(current, []))
    return tree


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process tree so far, children that have exited included (their
    time moves into the parent's cutime / cstime when it reaps them, so nothing is counted twice)."""
    return sum(cpu_with_children(member) for member in process_tree(pid))


def tree_rss_mb(pid: int) -> float:
    return sum(rss_mb(member) for member in process_tree(pid))


def sim_sends(sim_url: str) -> dict[str, int]:
    return requests.get(f"{sim_url}/_sim/requests", timeout=30).json()["sends_per_recipient"]


# --- Postgres figures


def pg_commits() -> int:
    """Transactions committed in this database so far (Postgres flushes these statistics within ~1 s)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def pg_statement_ms() -> float | None:
    """Execution time of every statement so far, when pg_stat_statements is installed; else None."""
    from django.db import DatabaseError, connection, transaction

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT coalesce(sum(total_exec_time), 0) FROM pg_stat_statements")
            return float(cursor.fetchone()[0])
    except DatabaseError:
        return None


def postmaster_pid(services: Services) -> int | None:
    """The embedded Postgres' server process, when this bench started it (its first pid-file line)."""
    if services.postgres is None:
        return None
    try:
        return int((services.postgres.data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
