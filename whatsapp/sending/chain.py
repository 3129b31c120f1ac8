"""One number's sends, chunk by chunk: the gate, tokens, rules + claim, concurrent Graph calls,
outcomes in bulk (each step a `sender.NumberSender`'s). Every sender is a `Source` of rows (a
campaign batch, a number's one-off sends) run through `stream`; nothing else calls Meta to send a
message. Here: what a source is, the stream's loop, its lock, and its re-enqueue protocol."""

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

from aerostic.core import queues
from whatsapp.sending import limits
from whatsapp.sending.ledger import Ledger
from whatsapp.sending.rules import SendRequest
from whatsapp.sending.sender import CHUNK_SECONDS, NumberSender

logger = logging.getLogger(__name__)

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
REDIS_DOWN = "Rate limits unavailable (Redis): retrying shortly."


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


# --- the stream: one job's loop over a source


@contextlib.contextmanager
def _lock(key: str) -> Iterator[Any]:
    """One live stream per source: a second job for it (the sweeper's, a re-delivered one) leaves at once."""
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
            except limits.RateLimitUnavailable:
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
