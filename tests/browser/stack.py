"""`make run`'s stack, started for a browser test: `python -m devstack run` in a folder of its own,
on the test run's PostgreSQL (a database of its own) and Redis (a database number of its own),
with the simulator, web, the three workers and the scheduler as `make run` starts them. The test
reads the printed URL and demo logins and talks to it only as a person and Meta's simulator would."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from devstack.run import ROOT, stop_process_groups
from devstack.services import free_port

STACK_REDIS_DB = 9  # the tests flush database 0 between tests; the stack keeps its own


@dataclass
class Stack:
    url: str
    simulator_url: str
    admin_email: str
    agent_email: str
    password: str
    database_url: str
    log: Path

    def sql(self, statement: str, params: tuple = ()) -> list[tuple]:
        """A statement on the stack's database as the platform (every workspace's rows)."""
        with psycopg.connect(_libpq(self.database_url), autocommit=True) as connection, connection.transaction():
            connection.execute("SELECT set_config('app.platform', 'on', true)")
            cursor = connection.execute(statement, params)
            return cursor.fetchall() if cursor.description else []


def _libpq(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _with_redis_db(url: str, number: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{number}"))


def start_stack(timeout: float = 240) -> tuple[Stack, subprocess.Popen, str]:
    base_url = os.environ["DATABASE_URL"]
    name = f"aerostic_stack_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_libpq(base_url), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    folder = Path(tempfile.mkdtemp(prefix="aerostic-stack-"))
    port, sim_port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if key not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ENV")}
    env.update(
        DATABASE_URL=_with_database(base_url, name),
        REDIS_URL=_with_redis_db(os.environ["REDIS_URL"], STACK_REDIS_DB),
        PORT=str(port),
        META_SIMULATOR_PORT=str(sim_port),
        AEROSTIC_DATA_DIR=str(folder),
        PYTHONUNBUFFERED="1",
    )
    log = folder / "stack.log"
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "devstack", "run"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if "is running at" in text and "agent" in text.split("is running at", 1)[1]:
            break
        if process.poll() is not None:
            raise RuntimeError(f"the stack stopped (exit {process.returncode}):\n{text[-4000:]}")
        time.sleep(0.5)
    else:
        stop_process_groups([process])
        raise RuntimeError(f"the stack did not start in {timeout:.0f} s:\n{text[-4000:]}")
    time.sleep(1)  # the printed block is complete a moment after its first line
    text = log.read_text(errors="replace")
    admin = re.search(r"admin\s+(\S+@\S+)\s+password:\s+(\S+)", text)
    agent = re.search(r"agent\s+(\S+@\S+)\s+password:\s+(\S+)", text)
    if admin is None or agent is None:
        stop_process_groups([process])
        raise RuntimeError(f"no demo logins printed:\n{text[-4000:]}")
    stack = Stack(
        url=f"http://127.0.0.1:{port}",
        simulator_url=f"http://127.0.0.1:{sim_port}",
        admin_email=admin.group(1),
        agent_email=agent.group(1),
        password=admin.group(2),
        database_url=env["DATABASE_URL"],
        log=log,
    )
    return stack, process, name


def stop_stack(process: subprocess.Popen, database: str) -> None:
    stop_process_groups([process], timeout=20)
    with psycopg.connect(_libpq(os.environ["DATABASE_URL"]), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
