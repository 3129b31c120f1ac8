"""The campaign engine under faults, against real processes: a `campaigns` RQ worker killed with
SIGKILL mid-send, Redis lost mid-campaign (flushed, or a real Redis server restarted), Meta
throttling the number for a while (130429), and Meta unreachable for the whole run.

What must hold whatever happens: nobody gets the campaign twice (the simulator's request log is the
witness), every recipient ends in a final state, `unknown` only for sends that were in flight when a
worker died, and the sweepers (`whatsapp.jobs.sweep_outbound`, the one sweeper of sends, and
`campaigns.jobs.sweep_campaigns`) bring a stranded campaign home.
Time is moved forward in the database (`updated_at`, `claimed_at`, `next_attempt_at`) instead of
sleeping through the real timeouts; a dead worker's Redis batch lock is deleted as its expiry would.
"""

from __future__ import annotations

import collections
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, F, Min, Q
from django.utils import timezone

from aerostic.core import queues
from aerostic.core.tenant_context import platform_context, tenant_context
from campaigns import engine
from campaigns.jobs import sweep_campaigns
from campaigns.models import Campaign, CampaignMessage
from campaigns.tests.support import audience, draft, launch, refresh, run_batches
from compliance.models import ComplianceSettings
from whatsapp.graph.breaker import CircuitBreaker
from whatsapp.graph.client import GraphClient
from whatsapp.jobs import sweep_outbound
from whatsapp.models import PhoneNumber
from whatsapp.sending import failures, limits
from whatsapp.sending.chain import GATE_INTERVAL
from whatsapp.simulator.state import Faults

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.faults]
ROOT = Path(__file__).resolve().parents[2]
WORKER_APP = "aerostic-fault-worker"  # the workers' Postgres application_name: their sessions are found by it
FINAL = {"sent", "failed", "skipped", "unknown"}


# --- real worker processes


def _database_url() -> str:
    """The test database as a URL for a worker in another process (as whatsapp/tests/test_dispatch_faults.py),
    tagged with an application_name so the test can wait for a killed worker's sessions to end."""
    db = connection.settings_dict
    options = db.get("OPTIONS") or {}
    host, port = options.get("host") or db.get("HOST") or "", options.get("port") or db.get("PORT") or ""
    query = f"?host={host}&port={port}&" if str(host).startswith("/") else "?"
    netloc = "" if str(host).startswith("/") else f"{host}:{port}"
    return f"postgresql://{db['USER']}:{db['PASSWORD']}@{netloc}/{db['NAME']}{query}application_name={WORKER_APP}"


@pytest.fixture
def workers(simulator, tmp_path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Starts `manage.py rqworker campaigns --burst` processes (each in its own session); any still
    running at the end of the test is killed. Their output goes to tmp_path for a failing test."""
    started: list[subprocess.Popen] = []

    def start(*, redis_url: str | None = None) -> subprocess.Popen:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "aerostic.settings_test",
            "DATABASE_URL": _database_url(),
            "META_SANDBOX_URL": simulator.url,
            "META_GRAPH_BASE_URL": simulator.url,
        }
        if redis_url:
            env["REDIS_URL"] = redis_url
        log = (tmp_path / f"worker-{len(started)}.log").open("w")
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "rqworker", "campaigns", "--burst", "--verbosity", "1"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _kill(process: subprocess.Popen) -> None:
    """SIGKILL, then wait until its Postgres sessions are gone: a transaction it had already sent
    to the server is settled (committed or rolled back) before the test reads the states."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)

    def sessions_gone() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [WORKER_APP])
            return cursor.fetchone()[0] == 0

    _wait_until(sessions_gone, timeout=15, what="the killed worker's database sessions to end")


def _finish(process: subprocess.Popen, tmp_path: Path, *, timeout: float = 60) -> None:
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        raise AssertionError(f"the burst worker did not finish in {timeout} s:\n{_logs(tmp_path)}") from None
    assert code == 0, f"the worker exited with {code}:\n{_logs(tmp_path)}"


def _logs(tmp_path: Path) -> str:
    return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in sorted(tmp_path.glob("worker-*.log")))


def _wait_until(condition: Callable[[], bool], *, timeout: float, what: str, every: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


# --- the campaign and what happened to it


@pytest.fixture
def phone(phone, alpha):
    """The shared `phone` (conftest.py), with quiet hours off: they never hold a recipient, whatever the hour."""
    with tenant_context(alpha.tenant):
        ComplianceSettings.objects.update_or_create(
            tenant_id=alpha.tenant.pk, defaults={"quiet_hours_enabled": False, "marketing_cap_messages": 0}
        )
    return phone


def _launch(alpha, phone, template, recipients: int, *, rate: int | None = None) -> Campaign:
    """A running campaign; in a transactional test its batch job is enqueued at once (on commit)."""
    if rate:  # a lower number rate: smaller chunks (rate × 0.25 s), so a kill finds some sent, some not
        with tenant_context(alpha.tenant):
            PhoneNumber.objects.filter(pk=phone.pk).update(send_rate_limit=rate)
    campaign = launch(alpha, draft(alpha, phone, template, audience(alpha, recipients)))
    assert campaign.status == Campaign.Status.RUNNING
    return campaign


def _states(campaign: Campaign) -> collections.Counter:
    with platform_context("test: campaign states"):
        rows = CampaignMessage.all_tenants.filter(campaign_id=campaign.pk)
        return collections.Counter(rows.values_list("state", flat=True))


def _progress(campaign: Campaign, *, fresh: timedelta) -> tuple[int, int]:
    """(sent, sending claimed less than `fresh` ago): a kill now lands while those are in flight."""
    with platform_context("test: campaign progress"):
        counts = CampaignMessage.all_tenants.filter(campaign_id=campaign.pk).aggregate(
            sent=Count("pk", filter=Q(state="sent")),
            fresh=Count("pk", filter=Q(state="sending", claimed_at__gt=timezone.now() - fresh)),
        )
    return counts["sent"], counts["fresh"]


def _numbers(alpha, campaign: Campaign, *states: str) -> set[str]:
    """The recipients' numbers as the simulator logs them (digits only)."""
    with tenant_context(alpha.tenant):
        rows = CampaignMessage.objects.filter(campaign=campaign).select_related("contact")
        if states:
            rows = rows.filter(state__in=states)
        return {"".join(ch for ch in row.contact.phone.reveal() if ch.isdigit()) for row in rows}


def _time_passes(alpha, campaign: Campaign, *, claims: bool = True) -> None:
    """As if minutes had gone by: queued recipients untouched for longer than LOST_JOB_AFTER (their
    job looks lost), every retry due and (`claims`) `sending` claims older than SENDING_TIMEOUT."""
    with tenant_context(alpha.tenant):
        rows = CampaignMessage.objects.filter(campaign=campaign)
        if claims:
            late = F("claimed_at") - engine.SENDING_TIMEOUT - timedelta(seconds=1)
            rows.filter(state="sending").update(claimed_at=late)
        rows.filter(state="queued").update(
            updated_at=timezone.now() - engine.LOST_JOB_AFTER - timedelta(seconds=1), next_attempt_at=None
        )
    # Minutes later the 6-second pair reservations are gone too (a killed claim may have left some).
    redis = queues.redis_connection()
    pairs = list(redis.scan_iter("aerostic:rl:pair:*"))
    if pairs:
        redis.delete(*pairs)


def _sweep_until_completed(alpha, campaign: Campaign, start_worker, tmp_path: Path, *, rounds: int = 3) -> list:
    """The minutely sweeper, then a worker for what it enqueued, until the campaign completes."""
    results = []
    for _ in range(rounds):
        if refresh(alpha, campaign).status == Campaign.Status.COMPLETED:
            break
        _time_passes(alpha, campaign)
        results.append((sweep_outbound(), sweep_campaigns()))  # their enqueues run on commit, at the end
        _finish(start_worker(), tmp_path)
    assert refresh(alpha, campaign).status == Campaign.Status.COMPLETED, (_states(campaign), results)
    return results


def _assert_nobody_twice(alpha, campaign: Campaign, simulator, *, in_flight: int, recipients: int) -> None:
    states = _states(campaign)
    assert set(states) <= FINAL, states
    assert sum(states.values()) == recipients
    assert states["unknown"] <= in_flight, (states, in_flight)
    received = simulator.state.sends_per_recipient()
    assert all(count == 1 for count in received.values()), {to: n for to, n in received.items() if n > 1}
    assert _numbers(alpha, campaign, "sent") <= set(received)  # every `sent` one really reached Meta
    assert set(received) <= _numbers(alpha, campaign)
    assert states["sent"] <= len(received) <= states["sent"] + states["unknown"]


# --- 1. a worker killed with SIGKILL mid-campaign


RECIPIENTS = 40
LATENCY_MS = 400  # each chunk's Graph calls are in flight this long
FRESH = timedelta(milliseconds=100)  # kill only right after a claim: its answers are ≥ 300 ms away


def test_a_worker_killed_mid_campaign_then_a_new_worker_and_the_sweeper_finish_it_sending_nobody_twice(
    alpha, phone, template, simulator, workers, tmp_path
):
    simulator.state.faults = Faults(latency_ms=LATENCY_MS)
    campaign = _launch(alpha, phone, template, RECIPIENTS, rate=20)  # chunks of 5: 8 chunks in ~3.5 s

    first = workers()
    _wait_until(
        lambda: (progress := _progress(campaign, fresh=FRESH))[0] >= 10 and progress[1] >= 1,
        timeout=45,
        what="some recipients sent and a chunk just claimed",
    )
    _kill(first)
    states = _states(campaign)
    in_flight = states["sending"]
    assert states["sent"] >= 10 and in_flight >= 1 and states["queued"] >= 1, states

    # The dead worker's lock still holds the batch: the sweeper leaves it alone until it expires.
    redis = queues.redis_connection()
    lock = engine.batch_lock_key(campaign.pk, 0)
    assert redis.exists(lock)
    _time_passes(alpha, campaign)
    with platform_context("test: the sweeper's view"):
        assert engine.due_batches() == []
    redis.delete(lock)  # as its 30-second expiry would

    # A new worker: its queue is empty (the job died with the old one) until the sweeper runs.
    _finish(workers(), tmp_path)
    assert _states(campaign)["queued"] == states["queued"]
    results = _sweep_until_completed(alpha, campaign, workers, tmp_path)
    swept, _campaigns = results[0]
    assert swept["unknown"] == in_flight and swept["requeued"] == 1

    _assert_nobody_twice(alpha, campaign, simulator, in_flight=in_flight, recipients=RECIPIENTS)
    final = _states(campaign)
    assert final == {"sent": RECIPIENTS - in_flight, "unknown": in_flight}, final


# --- 2. Redis lost mid-campaign


@pytest.fixture
def own_redis(tmp_path, settings):
    """A Redis server of this test's own (the suite's is shared), which the test may restart; the
    queues, locks, rate limits and breakers of this process and of the workers use it."""
    from devstack.services import EmbeddedRedis

    server = EmbeddedRedis(tmp_path / "redis", persistent=False)
    url = server.start()
    settings.RQ_QUEUES = {name: {**config, "URL": url} for name, config in settings.RQ_QUEUES.items()}
    yield server
    server.stop()


@pytest.mark.parametrize("how", ["flushall and the worker killed", "a real Redis restart"])
def test_redis_lost_mid_campaign_the_sweeper_resumes_it_and_nobody_is_sent_twice(
    how, alpha, phone, template, simulator, workers, tmp_path, request
):
    redis_url = None
    if how == "a real Redis restart":
        own = request.getfixturevalue("own_redis")
        redis_url = own.url()
    simulator.state.faults = Faults(latency_ms=LATENCY_MS)
    campaign = _launch(alpha, phone, template, RECIPIENTS, rate=20)
    redis = queues.redis_connection()
    assert redis.llen("rq:queue:campaigns") == 1  # the batch job, in the Redis under test

    first = workers(redis_url=redis_url)
    _wait_until(
        lambda: (progress := _progress(campaign, fresh=FRESH))[0] >= 10 and progress[1] >= 1,
        timeout=45,
        what="some recipients sent and a chunk just claimed",
    )
    if how == "flushall and the worker killed":
        # A Redis restart without persistence: the worker, cut off mid-job, is gone; so are the
        # queue, the batch lock and the rate limits.
        _kill(first)
        redis.flushall()
        in_flight = _states(campaign)["sending"]
        assert in_flight >= 1
        # Nothing is queued any more: a new worker finds nothing to do.
        _finish(workers(), tmp_path)
        assert _states(campaign)["sending"] == in_flight and refresh(alpha, campaign).status == "running"
        # A minute later the scheduler enqueues the periodic sweepers; a worker runs them, and the
        # batch job the sweeper of sends enqueues (the same burst: the batch lands on the queue the
        # worker drains; the test's worker drains `campaigns` only, so both sweepers go there).
        _time_passes(alpha, campaign)
        queues.get_queue(queues.CAMPAIGNS).enqueue(sweep_outbound)
        queues.get_queue(queues.CAMPAIGNS).enqueue(sweep_campaigns)
        _finish(workers(), tmp_path)
        assert refresh(alpha, campaign).status == Campaign.Status.COMPLETED, _states(campaign)
    else:
        # The server really stops and starts again, empty; the worker lives through it as it can.
        in_flight = _states(campaign)["sending"]
        own.stop()
        own.start()
        simulator.state.faults = Faults(latency_ms=2 * LATENCY_MS)  # the rest takes long enough to share
        # The minutely sweeper may run now, the tail of the batch untouched for over 30 s: the
        # batch's lock went with the old Redis, so it enqueues the batch again and a second
        # worker works on it beside the first (which may still be sending: its claims are young).
        assert not redis.exists(engine.batch_lock_key(campaign.pk, 0))
        _time_passes(alpha, campaign, claims=False)
        assert sweep_outbound()["requeued"] == 1
        second = workers(redis_url=redis_url)
        _finish(first, tmp_path)
        _finish(second, tmp_path)
        _sweep_until_completed(alpha, campaign, lambda: workers(redis_url=redis_url), tmp_path)

    _assert_nobody_twice(alpha, campaign, simulator, in_flight=in_flight, recipients=RECIPIENTS)


# --- 3 and 4: retries against Meta, on a simulated clock


@pytest.fixture
def steady_jitter(monkeypatch):
    """The retry backoff's jitter at the middle of its range (0.75 × the delay), so the order in
    which retries come due, and with it the outcome, does not depend on chance."""
    monkeypatch.setattr(failures, "random", SimpleNamespace(uniform=lambda low, high: (low + high) / 2))


class Clock:
    """Moves time forward without sleeping: every stored moment the run depends on moves back by
    the same amount — the recipients' timestamps in the database, and in Redis the circuit breaker
    (opened at, probe and failure-window expiries) and the number's bucket and rate factor."""

    def __init__(self, alpha, campaign: Campaign, phone: PhoneNumber) -> None:
        self.alpha, self.campaign, self.phone = alpha, campaign, phone
        self.breaker = CircuitBreaker(f"waba:{phone.account.waba_id}")
        self.elapsed = 0.0

    def advance(self, seconds: float) -> None:
        self.elapsed += seconds
        delta = timedelta(seconds=seconds)
        with tenant_context(self.alpha.tenant):
            CampaignMessage.objects.filter(campaign=self.campaign).update(
                next_attempt_at=F("next_attempt_at") - delta,
                claimed_at=F("claimed_at") - delta,
                updated_at=F("updated_at") - delta,
            )
        redis = queues.redis_connection()
        opened = redis.get(self.breaker._opened_key)
        if opened is not None:
            redis.set(self.breaker._opened_key, repr(float(opened) - seconds))
        number = f"aerostic:rl:num:{self.phone.phone_number_id}"
        for key, fields in ((f"{number}:bucket", ("ts",)), (f"{number}:factor", ("cut", "up"))):
            for name in fields:
                value = redis.hget(key, name)
                if value is not None:
                    redis.hset(key, name, repr(float(value) - seconds))
        for key in (self.breaker._probe_key, self.breaker._failures_key, f"{number}:bucket", f"{number}:factor"):
            left = redis.pttl(key)
            if left > 0:
                if left <= seconds * 1000:
                    redis.delete(key)
                else:
                    redis.pexpire(key, left - int(seconds * 1000))

    def next_round(self) -> bool:
        """To the moment the batch job comes back (the earliest retry due, + 1 s as `_schedule_next`
        enqueues it); False when nothing is left to retry."""
        with tenant_context(self.alpha.tenant):
            due = CampaignMessage.objects.filter(campaign=self.campaign, state="queued").aggregate(
                at=Min("next_attempt_at")
            )["at"]
        if due is None:
            return False
        self.advance(max(0.0, (due - timezone.now()).total_seconds()) + 1)
        return True


def _rows(alpha, campaign: Campaign) -> list[CampaignMessage]:
    with tenant_context(alpha.tenant):
        return list(CampaignMessage.objects.filter(campaign=campaign).order_by("pk"))


# --- 3. Meta throttling the number (130429) for a while


THROTTLE_FOR = 40.0  # seconds of 130429 answers (longer than the breaker's cool-down), then none
ROUNDS_MAX = 400  # batch-job runs, a safety net: test 3 takes about 6, test 4 about 90


def test_throttled_for_a_while_the_number_slows_down_nothing_fails_and_everyone_is_sent_once(
    alpha, phone, template, simulator, steady_jitter
):
    recipients = 10  # one chunk: one burst of 130429 answers
    campaign = _launch(alpha, phone, template, recipients)
    clock = Clock(alpha, campaign, phone)
    simulator.state.faults = Faults(throttle_rate=1.0)

    run_batches(alpha, campaign)
    rows = _rows(alpha, campaign)
    assert {(row.state, row.attempts, row.error_code) for row in rows} == {("queued", 1, 130429)}
    assert all(row.hold_reason and row.next_attempt_at > row.updated_at for row in rows)  # a retry, later
    assert limits.number_rate_factor(phone.phone_number_id) == 0.5  # halved once for the burst
    assert refresh(alpha, campaign).status == Campaign.Status.RUNNING

    rounds = 1
    while clock.next_round() and rounds < ROUNDS_MAX:
        if clock.elapsed >= THROTTLE_FOR:
            simulator.state.faults = Faults()  # Meta lets the number through again
        run_batches(alpha, campaign)
        rounds += 1

    states = _states(campaign)
    failed = collections.Counter(row.error_detail for row in _rows(alpha, campaign) if row.state == "failed")
    assert states == {"sent": recipients}, (states, failed, f"{rounds} runs over {clock.elapsed:.1f} s")
    assert simulator.state.sends_per_recipient() == dict.fromkeys(_numbers(alpha, campaign), 1)
    assert refresh(alpha, campaign).status == Campaign.Status.COMPLETED
    assert limits.number_rate_factor(phone.phone_number_id) < 1.0  # it recovers step by step


# --- 4. Meta unreachable (connection refused) for the whole run


@pytest.fixture
def closed_port() -> Iterator[str]:
    """A port bound but not listening: every connection to it is refused, and nobody else takes it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_meta_unreachable_retries_with_backoff_then_fails_clearly_and_the_breaker_spares_the_port(
    alpha, phone, template, simulator, settings, closed_port, monkeypatch, steady_jitter
):
    recipients = 10  # one chunk at the number's 80 msg/s
    campaign = _launch(alpha, phone, template, recipients)
    clock = Clock(alpha, campaign, phone)
    settings.META_SANDBOX_URL = closed_port
    connects: list[float] = []  # when (on the clock) a connection to the port was attempted
    once = GraphClient._once

    def counted(self: GraphClient, *args: Any, **kwargs: Any) -> Any:
        connects.append(clock.elapsed)
        return once(self, *args, **kwargs)

    monkeypatch.setattr(GraphClient, "_once", counted)

    attempts = dict.fromkeys((row.pk for row in _rows(alpha, campaign)), 0)
    rounds = 0
    while rounds < ROUNDS_MAX:
        run_batches(alpha, campaign)
        rounds += 1
        for row in _rows(alpha, campaign):
            assert row.state in ("queued", "failed"), (row.state, row.error_detail)  # never `unknown`
            assert attempts[row.pk] <= row.attempts <= attempts[row.pk] + 1
            if row.state == "queued":
                assert row.hold_reason and row.next_attempt_at > row.updated_at
            if row.state == "queued" and row.attempts > attempts[row.pk]:  # it was tried and failed
                backoff = min(failures.BACKOFF_CAP_SECONDS, failures.BACKOFF_BASE_SECONDS * 2 ** (row.attempts - 1))
                assert (row.next_attempt_at - row.updated_at).total_seconds() >= backoff / 2
            attempts[row.pk] = row.attempts
        if rounds == 1:
            assert clock.breaker.state().state == "open"
        if not clock.next_round():
            break

    rows = _rows(alpha, campaign)
    assert {(row.state, row.attempts) for row in rows} == {("failed", failures.MAX_ATTEMPTS)}, rounds
    unreachable = "Could not reach Meta (ConnectionError)."
    breaker_open = "Calls to Meta for this number are paused after repeated failures; they resume shortly."
    gave_up = {f"Gave up after {failures.MAX_ATTEMPTS} attempts: {reason}" for reason in (unreachable, breaker_open)}
    assert {row.error_detail for row in rows} <= gave_up
    assert all(row.failed_at for row in rows)
    assert refresh(alpha, campaign).status == Campaign.Status.COMPLETED
    assert simulator.state.messages == []

    # The breaker opened after the first chunk's refused connections; from then on the port saw
    # one probe per cool-down at most, however many recipients were due.
    first = [at for at in connects if at == 0]
    assert settings.GRAPH_BREAKER_THRESHOLD <= len(first) <= recipients
    cooldown = settings.GRAPH_BREAKER_COOLDOWN_SECONDS
    later = [at for at in connects if at > 0]
    gaps = [after - before for before, after in zip([0.0, *later], later, strict=False)]
    assert all(gap >= cooldown - 1 for gap in gaps), (gaps, connects)  # 1 s: the real time a run takes


# --- 5. the number disconnected or deactivated mid-campaign


def _reconnect(alpha, simulator, phone: PhoneNumber) -> None:
    """The same WABA and number connected again with its system-user token (new rows, as always)."""
    from whatsapp.connections.connect import SANDBOX_PIN, account_connect

    token = next(t.value for t in simulator.state.tokens.values() if phone.account.waba_id in t.waba_ids)
    account_connect(
        tenant=alpha.tenant,
        waba_id=phone.account.waba_id,
        token=token,
        mode=phone.account.mode,
        actor=alpha.admin.user,
        register_phone_id=phone.phone_number_id,
        pin=SANDBOX_PIN,
    )


@pytest.mark.parametrize("how", ["disconnected", "deactivated"])
def test_a_number_stopped_mid_campaign_pauses_it_within_a_chunk_and_it_resumes_once_the_number_is_back(
    how, alpha, phone, template, simulator, workers, tmp_path
):
    from campaigns.services import campaign_resume
    from whatsapp.connections.numbers import account_disconnect

    simulator.state.faults = Faults(latency_ms=LATENCY_MS)
    chunk = 5
    campaign = _launch(alpha, phone, template, RECIPIENTS, rate=chunk * 4)  # chunks of 5, ~4 a second
    worker = workers()
    _wait_until(lambda: _progress(campaign, fresh=FRESH)[0] >= 10, timeout=45, what="some recipients sent")

    with tenant_context(alpha.tenant):
        if how == "disconnected":
            account_disconnect(account=phone.account, actor=alpha.admin.user)
        else:  # as staff or Meta's webhook would: only the flag, no fan-out; the engine's gate sees it
            PhoneNumber.objects.filter(pk=phone.pk).update(is_active=False)
    stopped_at = time.time()
    _finish(worker, tmp_path)

    paused = refresh(alpha, campaign)
    assert paused.status == Campaign.Status.PAUSED
    assert paused.status_reason.startswith(f"The WhatsApp number {phone.display_phone_number} was {how}")
    states = _states(campaign)
    assert set(states) == {"sent", "queued"} and states["queued"] >= chunk, states  # the rest waits, nobody failed
    # Stopped within one chunk: the gate is read at most GATE_INTERVAL apart, so one chunk may have
    # been claimed just after the stop and none later; Meta saw no other send after the stop.
    with tenant_context(alpha.tenant):
        claimed = {
            "".join(ch for ch in row.contact.phone.reveal() if ch.isdigit()): row.claimed_at.timestamp()
            for row in CampaignMessage.objects.filter(campaign=campaign).select_related("contact")
            if row.claimed_at
        }
    gate_saw_it = stopped_at + GATE_INTERVAL + 0.05  # 50 ms: the gate's own read and a commit
    after = [to for to, at in claimed.items() if at > stopped_at]
    assert len(after) <= chunk and all(claimed[to] < gate_saw_it for to in after), (after, stopped_at)
    late = [
        r["json"]["to"] for r in simulator.state.requests if r["path"].endswith("/messages") and r["ts"] > stopped_at
    ]
    assert len(late) <= 2 * chunk and all(claimed[to] < gate_saw_it for to in late), (late, stopped_at)
    received = simulator.state.sends_per_recipient()
    assert set(received) == _numbers(alpha, campaign, "sent") and set(received.values()) == {1}

    # Back again: a person resumes it, and only those still queued are sent, each once.
    if how == "disconnected":
        _reconnect(alpha, simulator, phone)
    else:
        with tenant_context(alpha.tenant):
            PhoneNumber.objects.filter(pk=phone.pk).update(is_active=True)
    with tenant_context(alpha.tenant):
        campaign_resume(campaign=paused, actor=alpha.admin.user)
    _finish(workers(), tmp_path)
    assert refresh(alpha, campaign).status == Campaign.Status.COMPLETED, _states(campaign)
    assert _states(campaign) == {"sent": RECIPIENTS}
    assert simulator.state.sends_per_recipient() == dict.fromkeys(_numbers(alpha, campaign), 1)
