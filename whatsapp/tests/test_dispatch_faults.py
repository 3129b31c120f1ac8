"""A real RQ worker process killed with SIGKILL in the middle of sending: nobody gets a message
twice, and every message ends sent or `unknown` (at most the one in flight at the kill)."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from aerostic.core import queues
from aerostic.core.tenant_context import platform_context, tenant_context
from whatsapp import dispatch
from whatsapp.jobs import send_outbound
from whatsapp.models import MessageTemplate, OutboundMessage
from whatsapp.sending.ledger import stale_sends_mark_unknown
from whatsapp.simulator.state import Faults

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.faults]
ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = [f"91981234{index:04d}" for index in range(12)]


def _database_url() -> str:
    """The test database as a URL for a worker in another process."""
    db = connection.settings_dict
    options = db.get("OPTIONS") or {}
    host, port = options.get("host") or db.get("HOST") or "", options.get("port") or db.get("PORT") or ""
    query = f"?host={host}&port={port}" if str(host).startswith("/") else ""
    netloc = "" if query else f"{host}:{port}"
    return f"postgresql://{db['USER']}:{db['PASSWORD']}@{netloc}/{db['NAME']}{query}"


def _worker(simulator) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aerostic.settings_test",
        "DATABASE_URL": _database_url(),
        "META_SANDBOX_URL": simulator.url,
        "META_GRAPH_BASE_URL": simulator.url,
    }
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "rqworker", "sends", "--burst", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _states() -> collections.Counter:
    with platform_context("test: outbound states"):
        return collections.Counter(OutboundMessage.all_tenants.values_list("state", flat=True))


def test_a_worker_killed_mid_send_never_sends_anything_twice(alpha, connected, simulator):
    simulator.state.faults = Faults(latency_ms=250)  # every send is in flight for a while
    with tenant_context(alpha.tenant):
        phone = connected.phone_numbers.get()
        hello = MessageTemplate.objects.get(account=connected, name="hello_world")
        content = {"type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}}}
        for number in RECIPIENTS:  # committed at once (transactional test): the jobs are queued
            dispatch.message_enqueue(
                phone=phone, to=number, content=content, category="UTILITY", origin="api", template=hello
            )

    first = _worker(simulator)
    deadline = time.monotonic() + 60
    while _states()["sent"] < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)  # mid-send: one message is claimed, its answer never recorded
    first.wait(timeout=10)
    in_flight = _states()["sending"]
    assert in_flight <= 1

    second = _worker(simulator)
    assert second.wait(timeout=120) == 0
    # The sweeper, a few minutes later: a claimed send with no answer is `unknown` (not re-sent).
    later = timezone.now() + dispatch.SENDING_TIMEOUT + timedelta(seconds=1)
    with platform_context("test: the sweeper"):
        stale_sends_mark_unknown(cutoff=later - dispatch.SENDING_TIMEOUT)
    # A message whose job died before its claim is queued again (its person's 6-second slot may
    # still be taken by the killed attempt: then it waits and goes on a later round).
    deadline = time.monotonic() + 60
    while _states()["queued"] and time.monotonic() < deadline:
        with platform_context("test: the sweeper"):
            for tenant_id, phone_id in dispatch.due_numbers(now=later):
                queues.get_queue("sends").enqueue(send_outbound, tenant_id=tenant_id, phone_id=phone_id)
        assert _worker(simulator).wait(timeout=120) == 0
        time.sleep(1)
        later = max(later, timezone.now() + dispatch.LOST_JOB_AFTER + timedelta(seconds=1))

    states = _states()
    assert set(states) <= {"sent", "unknown"}, states
    assert states["unknown"] <= in_flight
    received = simulator.state.sends_per_recipient()
    assert all(count == 1 for count in received.values()), received
    assert states["sent"] <= len(received) <= states["sent"] + states["unknown"]
