"""One number's sends, chunk by chunk: the gate, tokens, rules + claim, concurrent Graph calls,
outcomes in bulk. Every sender is a `Source` of rows (a campaign batch, a number's one-off sends)
run through `stream`; nothing else calls Meta to send a message."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Min, QuerySet
from django.utils import timezone
from redis.exceptions import RedisError

from whatsapp import ratelimits
from whatsapp.graph.errors import GraphError, GraphNetworkError
from whatsapp.sending import rules
from whatsapp.sending.failures import (
    EXPLANATIONS,
    FailureVerdict,
    classify_failure,
    pause_workspace,
    record_marketing_stop,
)
from whatsapp.sending.ledger import FAILED, QUEUED, SKIPPED, UNKNOWN, Ledger, Outcome
from whatsapp.sending.rules import SendRequest, Verdicts

logger = logging.getLogger(__name__)

CHUNK_MAX = 100  # requests claimed and sent together
CHUNK_SECONDS = 0.25  # a chunk is at most this much of the number's rate: pauses bite within it
GATE_INTERVAL = 0.2  # seconds between two reads of the gate (pause, kill-switches, the number)
CONCURRENCY = 32  # Graph calls in flight per stream
SWITCH_INTERVAL = 0.0005
LOCK_SECONDS = 30
QUEUED_MARK_SECONDS = 900  # a stream job waiting in the queue longer than this is taken as lost
QUOTA_WAIT_MAX = 5.0  # a longer wait holds the rows for the sweeper instead of sleeping
SCHEDULE_AHEAD = timedelta(minutes=15)  # holds ending sooner than this come back on RQ's scheduler
KILL_SWITCH_RECHECK = timedelta(seconds=60)
REDIS_RECHECK = timedelta(seconds=10)
LINGER_STEP = 0.02  # seconds between two looks for new rows while a stream lingers
BREAKER_OPEN = "Calls to Meta are paused after repeated failures; they resume shortly."
REDIS_DOWN = "Rate limits unavailable (Redis): retrying shortly."
REAUTHORISE = "The WhatsApp connection needs to be re-authorised."


class Source:
    """Where a stream's rows come from and what stopping means for them. A source names its queued
    rows (`queued`) and what they load with them (`related`); reading, holding and finding the next
    hold are the same for every source."""

    ledger: Ledger
    linger: float = 0.0  # seconds an idle stream waits for new rows before it ends (0: ends at once)
    per_day: int | None = None  # the workspace's daily quota for this kind of send (campaigns)
    requeue_refused: bool  # Meta refused the template or the number: back to the queue (else skipped)
    related: tuple[str, ...] = ()  # select_related for the rows a chunk reads
    lock_key: str
    queued_key: str

    def queued(self) -> QuerySet:
        """This source's queued rows (due or held)."""
        raise NotImplementedError

    def request_for(self, row: Any) -> SendRequest | str:
        """The row ready to send, or why it cannot be (skipped with that reason)."""
        raise NotImplementedError

    def stop(self, reason: str) -> None:
        """The number was disconnected or deactivated, or its connection has no usable token."""
        raise NotImplementedError

    def stop_rows(self, ids: list[int], reason: str, now: datetime) -> None:
        """These rows' template is no longer sendable."""
        raise NotImplementedError

    def job(self) -> tuple[Any, dict[str, Any]]:
        """The RQ job function and keyword arguments that run this stream again."""
        raise NotImplementedError

    def gate(self) -> str | None:
        """A stop of the source's own (a campaign no longer running), or None."""
        return None

    def switched_off(self, reason: str) -> None:
        """A kill-switch is off: the due rows wait until it may be back on."""
        self.hold_due(timezone.now() + KILL_SWITCH_RECHECK, reason)

    def switched_on(self) -> None:
        """The kill-switches are on (clear what `switched_off` noted)."""

    def meta_stopped(self, reason: str) -> None:
        """Meta refused the template or the number, wants the connection re-authorised, or
        restricted the account (the workspace is paused already)."""

    def finished(self) -> None:
        """The stream ended (a campaign may complete)."""

    def due_rows(self, now: datetime, count: int) -> list[Any]:
        """Up to `count` due queued rows, locked (FOR UPDATE SKIP LOCKED), oldest first."""
        rows = self.queued().exclude(next_attempt_at__gt=now).select_related(*self.related)
        return list(rows.select_for_update(skip_locked=True, of=("self",)).order_by("pk")[:count])

    def due_rows_exist(self, now: datetime) -> bool:
        return self.queued().exclude(next_attempt_at__gt=now).exists()

    def hold_due(self, until: datetime, reason: str) -> None:
        """Every due queued row waits until `until` (limits reached for longer than a sleep)."""
        self.queued().exclude(next_attempt_at__gt=until).update(
            next_attempt_at=until, hold_reason=reason[:255], updated_at=timezone.now()
        )

    def next_hold(self, now: datetime) -> datetime | None:
        """When the earliest held row is due again."""
        return self.queued().filter(next_attempt_at__gt=now).aggregate(at=Min("next_attempt_at"))["at"]


class NumberSender:
    """One number's context for one stream: its limits, its client and breaker, counts."""

    def __init__(self, phone: Any, source: Source) -> None:
        from compliance.policy import compliance_settings_for
        from whatsapp.connections.clients import breaker_for, graph_for

        self.phone, self.source, self.ledger = phone, source, source.ledger
        self.account = phone.account
        self.tenant = phone.tenant
        self.settings = compliance_settings_for(phone.tenant_id)
        self.rate = ratelimits.send_rate_of(phone)
        self.limit = ratelimits.MESSAGING_LIMITS.get(phone.messaging_limit_tier or "TIER_250", 250)
        self.portfolio = self.account.business_id or self.account.waba_id
        # The breaker is asked once per chunk, not per call (two Redis round trips per message).
        self.client = graph_for(self.account, max_attempts=1, breaker=False)
        self.breaker = breaker_for(self.account)
        self.counts: Counter[str] = Counter()

    # -- the gate (rules 1 and 2)

    def stop_reason(self) -> str | None:
        """Why no more may be sent now (None: go on). Read from the database before every chunk."""
        from compliance.selectors import sending_allowed
        from whatsapp.selectors import phone_sending_problem

        with transaction.atomic():  # one transaction: the scope is set once for the reads
            stop = self.source.gate()
            if stop:
                return stop
            decision = sending_allowed(self.tenant.pk)
            if not decision.allowed:
                self.source.switched_off(decision.reason)
                return decision.reason
            self.source.switched_on()
            problem = phone_sending_problem(self.phone.pk)
            if problem:
                self.source.stop(problem)
                return problem
        return None

    # -- tokens (rule 5, the pacing half)

    def tokens(self) -> tuple[int, float, str]:
        """(requests this chunk may send, seconds to wait when none, why)."""
        want = max(1, min(CHUNK_MAX, int(self.rate * CHUNK_SECONDS)))
        try:
            probe = self.breaker.permit()
        except RedisError as error:
            raise ratelimits.RateLimitUnavailable("The circuit breaker is unavailable (Redis).") from error
        if probe == 0:
            state = self.breaker.state()
            wait = max(1.0, (state.retry_at or time.time() + self.breaker.cooldown) - time.time())
            return 0, wait, BREAKER_OPEN
        if probe == 1:
            want = 1  # half-open: one probe call decides whether the circuit closes
        granted, wait, rate = ratelimits.take_number_tokens(self.phone.phone_number_id, rate=self.rate, want=want)
        # Come back when at least half a chunk's tokens are there (of the rate in force: a throttled
        # bucket holds fewer): streams sharing a slow bucket would otherwise send chunks of one or
        # two, each paying a whole chunk's database work.
        least = max(1, min(want, int(rate * CHUNK_SECONDS)) // 2)
        if granted < least:
            if granted:
                ratelimits.refund_number_tokens(self.phone.phone_number_id, granted)
            return 0, max(wait, (least - granted) / rate), "The number's sending rate is reached."
        quota, quota_wait, why = ratelimits.take_tenant_quota(
            self.tenant.pk, per_minute=self.tenant.messages_per_minute, per_day=self.source.per_day, want=granted
        )
        if quota < granted:
            ratelimits.refund_number_tokens(self.phone.phone_number_id, granted - quota)
        if not quota:
            return 0, quota_wait, why
        return quota, 0.0, ""

    # -- rules 3 to 6: judge and claim, in one transaction

    def claim(self, count: int, now: datetime) -> list[SendRequest]:
        verdicts = Verdicts()
        with transaction.atomic():
            requests = []
            for row in self.source.due_rows(now, count):
                built = self.source.request_for(row)
                if isinstance(built, str):
                    verdicts.skipped.append((row.pk, built))
                else:
                    requests.append(built)
            candidates = rules.judge(self, requests, now, verdicts)
            for request in candidates:
                request.payload = {
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    **request.content,
                    "to": request.to,
                    "biz_opaque_callback_data": self.ledger.callback_data(request.id),
                }
            self.ledger.claim([request.id for request in candidates], now)
            self.ledger.write_skipped(verdicts.skipped, now)
            self.ledger.write_held(verdicts.held, now)
            if verdicts.stopped:
                self.source.stop_rows([row_id for row_id, _ in verdicts.stopped], verdicts.stopped[0][1], now)
        self.counts["skipped"] += len(verdicts.skipped)
        self.counts["held"] += len(verdicts.held)
        unused = count - len(candidates)
        if unused > 0:
            with contextlib.suppress(ratelimits.RateLimitUnavailable):
                ratelimits.refund_number_tokens(self.phone.phone_number_id, unused)
                ratelimits.return_tenant_quota(self.tenant.pk, unused, per_day=self.source.per_day is not None)
        return candidates

    # -- the Graph calls

    def send(self, pool: ThreadPoolExecutor, items: list[SendRequest]) -> tuple[list[SendRequest], list[Future]]:
        """Starts the chunk's Graph calls; their results are recorded while the next chunk is
        claimed and sent (the database work of one chunk overlaps the HTTP calls of the next)."""
        return items, [pool.submit(self._send_one, item) for item in items]

    def _send_one(self, item: SendRequest) -> tuple[str, GraphError | None]:
        try:
            answer = self.client.send_message(self.phone.phone_number_id, item.payload)
        except GraphError as error:
            return "", error
        return str(((answer.get("messages") or [{}])[0]).get("id") or ""), None

    def record_sent(self, chunk: tuple[list[SendRequest], list[Future]]) -> None:
        items, futures = chunk
        self.record(items, [future.result() for future in futures])

    # -- the one place a send's end is written

    def record(self, items: list[SendRequest], outcomes: list[tuple[str, GraphError | None]]) -> None:
        from inbox.services import SentItem, outbound_store_many

        now = timezone.now()
        sent = [(item, wamid) for item, (wamid, error) in zip(items, outcomes, strict=True) if error is None]
        failed = [(item, error) for item, (_wamid, error) in zip(items, outcomes, strict=True) if error is not None]
        verdicts = [
            (item, error, classify_failure(error, attempts=item.attempts + 1, now=now)) for item, error in failed
        ]
        with transaction.atomic():
            if sent:
                self.ledger.write_sent([(item.id, wamid) for item, wamid in sent], now)
                outbound_store_many(
                    phone=self.phone,
                    items=[
                        SentItem(
                            to=item.to,
                            wamid=wamid,
                            content=item.content,
                            category=item.category,
                            contact_id=item.contact.pk if item.contact is not None else None,
                        )
                        for item, wamid in sent
                        if wamid
                    ],
                )
            if verdicts:
                self._write_failures(verdicts, now)
        self.counts["sent"] += len(sent)
        self.counts["failed or retried"] += len(failed)
        with contextlib.suppress(RedisError):
            if sent:
                self.breaker.record_success()
            for _item, error, _verdict in verdicts:
                # Meta unreachable or failing, not Meta pacing us (throttles slow the bucket instead).
                if isinstance(error, GraphNetworkError) or (error.http_status or 0) >= 500:
                    self.breaker.record_failure()
        with contextlib.suppress(ratelimits.RateLimitUnavailable):
            if sent:
                ratelimits.number_succeeded(self.phone.phone_number_id)
            refused = [item.index for item, _error, verdict in verdicts if verdict.meta_refused]
            ratelimits.release_pairs(self.phone.phone_number_id, refused)
            if any(verdict.throttled for _item, _error, verdict in verdicts):
                ratelimits.number_throttled(self.phone.phone_number_id)

    def _write_failures(self, verdicts: list[tuple[SendRequest, GraphError, FailureVerdict]], now: datetime) -> None:
        rows: list[Outcome] = []
        stop_reason = ""
        for item, error, verdict in verdicts:
            state = verdict.state if verdict.state in (QUEUED, UNKNOWN) else FAILED
            retry_at = verdict.retry_at
            if verdict.template_blocked or verdict.number_blocked:
                # Not the recipient's fault: the sender stops. A campaign pauses and its recipient
                # goes back in the queue for the resume; a one-off send is skipped with Meta's code.
                # A number deregistered at Meta (133010) is also what the chunk in flight while the
                # number is being disconnected meets.
                stop_reason = stop_reason or verdict.detail
                state, retry_at = (QUEUED, None) if self.source.requeue_refused else (SKIPPED, None)
            if verdict.opted_out and item.contact is not None:
                record_marketing_stop(item.contact, reference=f"{self.ledger.reference}:{item.id}")
            if verdict.reauthorise:
                from whatsapp.connections.tokens import mark_reauthorisation_needed

                mark_reauthorisation_needed(self.account, error)
                stop_reason = stop_reason or REAUTHORISE
            if verdict.account_danger and not stop_reason:
                pause_workspace(self.tenant, error)
                stop_reason = f"Meta error {error.code}: {EXPLANATIONS.get(error.code or 0, error.message)}"
            rows.append(Outcome(item.id, state, retry_at, error.code, error.message, verdict.detail))
        self.ledger.write_outcomes(rows, now)
        if stop_reason:
            self.source.meta_stopped(stop_reason)


# --- the stream: one job's loop over a source


@contextlib.contextmanager
def _lock(key: str) -> Iterator[Any]:
    """One live stream per source: a second job for it (the sweeper's, a re-delivered one) leaves at once."""
    from aerostic import queues

    redis = queues.redis_connection()
    token = f"{os.getpid()}:{time.time()}"
    if not redis.set(key, token, nx=True, ex=LOCK_SECONDS):
        yield None
        return
    try:
        yield lambda: redis.expire(key, LOCK_SECONDS)
    finally:
        with contextlib.suppress(Exception):
            if redis.get(key) in (token, token.encode()):
                redis.delete(key)


def mark_and_enqueue(queue_name: str, jobs: list[tuple[str, Any, dict[str, Any]]], *, force: bool = False) -> int:
    """After commit (the caller's), each (queued_key, function, kwargs) is enqueued unless a stream
    for it is already waiting in the queue (its mark is set): 500 sends to one number in a second
    are a handful of jobs, not 500. `force` enqueues whatever the mark says (the sweeper: a mark
    may outlive its lost job)."""
    from aerostic import queues

    if not jobs:
        return 0

    def enqueue() -> None:
        queue = queues.get_queue(queue_name)
        redis = queues.redis_connection()
        try:
            for key, function, kwargs in jobs:
                if redis.set(key, "1", nx=not force, ex=QUEUED_MARK_SECONDS) or force:
                    queue.enqueue(function, **kwargs)
        except Exception:  # Redis down: the sweeper enqueues them when it is back
            logger.warning("send streams not enqueued; the sweeper will", extra={"streams": len(jobs)})

    transaction.on_commit(enqueue)
    return len(jobs)


def is_running(source_keys: tuple[str, str]) -> bool:
    from aerostic import queues

    return bool(queues.redis_connection().exists(*source_keys))


_POOLS: dict[int, ThreadPoolExecutor] = {}


def _pool() -> ThreadPoolExecutor:
    """One pool per worker process (RQ runs jobs in-process here: aerostic/worker.py), so a stream
    does not start and stop its threads."""
    pool = _POOLS.get(os.getpid())
    if pool is None:
        pool = _POOLS[os.getpid()] = ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="send")
    return pool


def stream(source: Source, phone: Any, *, queue_name: str) -> dict[str, Any]:
    """Sends what the source may send now, chunk by chunk, until nothing is due. Inside the
    tenant's context. A job that finds the source's lock taken leaves (its mark stays: the holder
    looks again after releasing the lock, so nothing enqueued meanwhile waits for the sweeper)."""
    from aerostic import queues
    from whatsapp.connections.clients import ConnectionProblem

    result: dict[str, Any] = {"result": "done"}
    counts: Counter[str] = Counter()
    while True:
        with _lock(source.lock_key) as keep_alive:
            if keep_alive is None:
                return {"result": "another job is on this"}
            try:
                sender = NumberSender(phone, source)
            except ConnectionProblem as problem:
                with transaction.atomic():
                    source.stop(problem.message)
                return {"result": "stopped", "reason": problem.message}
            result = _loop(source, sender, keep_alive)
            counts.update(sender.counts)
        if result["result"] != "done":
            break
        # Released: anything marked while we held the lock is ours to send now.
        with contextlib.suppress(Exception):
            if queues.redis_connection().exists(source.queued_key):
                continue
        break
    _schedule_next(source, queue_name)
    source.finished()
    return {**result, **counts}


def _loop(source: Source, sender: NumberSender, keep_alive: Any) -> dict[str, Any]:
    from aerostic import queues

    result = "done"
    pending: tuple[list[SendRequest], list[Future]] | None = None
    pool = _pool()
    switch_interval = sys.getswitchinterval()
    # The sending threads would keep the GIL for 5 ms slices while this thread waits on Postgres
    # after every query (a convoy): shorter slices hand it back sooner.
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        checked = 0.0
        while True:
            if time.monotonic() - checked >= GATE_INTERVAL:
                # At most five times a second: waiting for tokens at 80 msg/s would otherwise ask
                # the database dozens of times a second; a pause still bites within 0.2 s.
                keep_alive()
                with contextlib.suppress(Exception):
                    queues.redis_connection().delete(source.queued_key)
                stop = sender.stop_reason()
                checked = time.monotonic()
                if stop:
                    result = f"stopped: {stop}"
                    break
            try:
                count, wait, why = sender.tokens()
                if not count:
                    if pending is not None:  # its outcome may be what decides the wait (a failed probe)
                        sender.record_sent(pending)
                        pending = None
                        continue
                    if wait > QUOTA_WAIT_MAX:
                        with transaction.atomic():
                            source.hold_due(timezone.now() + timedelta(seconds=wait), why)
                        result = f"held: {why}"
                        break
                    time.sleep(min(wait, CHUNK_SECONDS))
                    continue
                items = sender.claim(count, timezone.now())
            except ratelimits.RateLimitUnavailable:
                with transaction.atomic():
                    source.hold_due(timezone.now() + REDIS_RECHECK, REDIS_DOWN)
                result = "held: rate limits unavailable"
                break
            if not items:
                if pending is not None:
                    sender.record_sent(pending)
                    pending = None
                if not _due_within(source, source.linger):
                    break
                continue
            chunk = sender.send(pool, items)
            if pending is not None:
                sender.record_sent(pending)
            pending = chunk
    finally:
        if pending is not None:
            sender.record_sent(pending)  # whatever stopped the loop, what was sent is written
        sys.setswitchinterval(switch_interval)
    return {"result": result}


def _due_within(source: Source, seconds: float) -> bool:
    """Whether a row is due now or becomes due within `seconds` (new one-off sends arriving one by
    one: the stream waits for them briefly instead of ending and being started again for each)."""
    deadline = time.monotonic() + seconds
    while True:
        if source.due_rows_exist(timezone.now()):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(LINGER_STEP)


def _schedule_next(source: Source, queue_name: str) -> None:
    """Rows held for seconds or minutes (pair limit, retries, quiet hours ending soon): the stream
    comes back for them on RQ's scheduler, once for the earliest (a burst of short streams does not
    pile up scheduled jobs); later ones are the sweeper's."""
    from aerostic import queues

    now = timezone.now()
    at = source.next_hold(now)
    if at is None or at - now > SCHEDULE_AHEAD:
        return
    function, kwargs = source.job()
    # RQ's scheduler keeps whole seconds (it may fire up to one early): aim one second later.
    delay = at - now + timedelta(seconds=1)
    key, due = f"{source.queued_key}:scheduled", (now + delay).timestamp()
    with contextlib.suppress(Exception):
        redis = queues.redis_connection()
        scheduled = redis.get(key)
        if scheduled is not None and now.timestamp() < float(scheduled) <= due:
            return  # a job still to come comes back at or before this time
        redis.set(key, repr(due), ex=int(delay.total_seconds()) + 60)
        queues.get_queue(queue_name).enqueue_in(delay, function, **kwargs)
