"""Group commit for the webhook intake on the event loop: deliveries that arrive together are stored
with one INSERT and one commit, then handed over with one Redis call.

Group commit (`GroupCommitter`, one per worker process). A verified delivery joins the waiting
group and its request awaits the group's outcome. One flusher task sends a group to Postgres as one
transaction: `set_config('app.platform', …)`, ONE multi-row INSERT (intake.INSERT_EVENTS: ids
drawn next to each delivery's position, so every request gets its own row's id) and COMMIT, in a
single pipelined round trip; then ONE Redis call pushes the group's pending ids onto the ready list
(`ready.PUSH_AND_CLAIM`); only then is every request of the group answered 200. A group goes:
- at once when no other group is on the database: a lone delivery under light load waits for
  nothing but the next turn of the event loop (deliveries that arrived in the same turn go with it);
- when it is full (WEBHOOK_GROUP_MAX deliveries, or GROUP_MAX_BYTES of sealed bodies);
- otherwise at the latest WEBHOOK_GROUP_WINDOW_MS after its first delivery arrived. Under load the
  group therefore gathers whatever arrives while the previous one commits — group commit as
  databases do it — and goes as soon as that commit is done; the window is only the upper bound.
Groups run concurrently, up to the pool's WEBHOOK_INTAKE_DB_CONNECTIONS. One flush at a time would
give the largest groups, but then one slow commit (a checkpoint's fsync, a lock wait) would stall
every delivery behind it; past the window the next group takes another connection instead. With
every connection busy the waiting group keeps growing until one is free, and no delivery waits for
a connection longer than the pool timeout (POOL_TIMEOUT: 503, as before grouping).

Nothing is acknowledged before its row is committed. The INSERT or the COMMIT fails → the whole
group is rolled back and every request of it answers 503 with Retry-After (Meta re-sends each).
Redis down → the rows stay pending for the sweeper and the answers stay 200. A client that goes
away leaves its group alone: uvicorn lets the request finish and drops the answer; a request that
is cancelled instead is dropped from its group if the group has not been sent, else its row is
stored and simply not answered (Meta re-sends; processing is idempotent). Shutdown (lifespan)
refuses new deliveries with 503, flushes what is waiting and fails, with 503, only what cannot be
stored in time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from whatsapp.webhooks import intake

logger = logging.getLogger(__name__)


class NotStored(Exception):
    """The delivery's row was not committed (database unavailable, no connection in time, or the
    intake is closing): the request answers 503 and Meta re-sends it."""


@dataclass(slots=True)
class _Waiting:
    delivery: intake.Delivery
    answer: asyncio.Future[int]
    arrived: float  # event-loop time


class GroupCommitter:
    """Stores the deliveries that arrive together with one INSERT and one commit per group, then
    hands the group to processing with one Redis call (the policy is in the module docstring).

    `store(deliveries) -> ids in the same order` must commit before it returns; `hand_over(ids)`
    must never raise (Redis down leaves the rows pending for the sweeper). Both are called from
    this event loop only, so the bookkeeping needs no locks."""

    # A group is one statement: its bodies travel as one text[] parameter, and Postgres refuses any
    # single value over 1 GB. Meta's bodies are kilobytes, but the intake accepts up to
    # WEBHOOK_MAX_BYTES each, so a group is also closed by size (always at least one delivery).
    GROUP_MAX_BYTES = 32 * 1024 * 1024

    def __init__(
        self,
        *,
        store: Callable[[Sequence[intake.Delivery]], Awaitable[list[int]]],
        hand_over: Callable[[list[int]], Awaitable[None]],
        max_size: int,
        window_seconds: float,
        max_in_flight: int,
        connection_timeout: float,
    ) -> None:
        self._store = store
        self._hand_over = hand_over
        self._max_size = max_size
        self._window = window_seconds
        self._max_in_flight = max_in_flight
        self._connection_timeout = connection_timeout
        self._waiting: list[_Waiting] = []
        self._waiting_bytes = 0
        self._in_flight = 0  # groups holding (or waiting for) a database connection
        self._wake = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._flushes: set[asyncio.Task[None]] = set()
        self._closing = False
        self.groups = 0  # groups sent to the database: how tests see that deliveries were grouped

    async def store(self, delivery: intake.Delivery) -> int:
        """The delivery's event id once its row is committed (and handed over when pending);
        NotStored when it was not stored."""
        if self._closing:
            raise NotStored("the intake is shutting down")
        loop = asyncio.get_running_loop()
        waiting = _Waiting(delivery, loop.create_future(), loop.time())
        self._waiting.append(waiting)
        self._waiting_bytes += len(delivery[0])
        # Wake the flusher only when its decision can change: a first delivery, or a full group.
        if len(self._waiting) == 1 or self._is_full():
            self._wake.set()
        if self._flusher is None:
            self._flusher = loop.create_task(self._run(), name="webhook-group-flusher")
            self._flusher.add_done_callback(self._flusher_ended)
        return await waiting.answer

    async def close(self, *, timeout: float) -> None:
        """Refuses new deliveries, flushes what is waiting, waits up to `timeout` seconds for
        the groups in flight, then fails what is left with NotStored."""
        self._closing = True
        self._wake.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (self._waiting or self._flushes) and loop.time() < deadline:
            await asyncio.sleep(0.01)
        for task in [*self._flushes, *([self._flusher] if self._flusher else [])]:
            task.cancel()
        await asyncio.gather(*self._flushes, *([self._flusher] if self._flusher else []), return_exceptions=True)
        self._flusher = None
        self._fail(self._waiting, NotStored("the intake shut down before the delivery was stored"))
        self._waiting, self._waiting_bytes = [], 0

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._waiting:
                await self._sleep(None)
                continue
            now = loop.time()
            oldest = self._waiting[0].arrived
            if self._in_flight >= self._max_in_flight:
                # Every connection is busy: the group grows meanwhile, but no delivery waits for a
                # connection longer than the pool would have let it wait for one.
                expires = oldest + self._connection_timeout
                if now >= expires:
                    self._expire(before=now - self._connection_timeout)
                else:
                    await self._sleep(expires - now)
                continue
            due = oldest + self._window
            if self._in_flight and now < due and not self._is_full() and not self._closing:
                await self._sleep(due - now)  # a group is committing: gather until it is done
                continue
            group = self._take()
            if group:
                self._in_flight += 1
                self.groups += 1
                task = loop.create_task(self._flush(group))
                self._flushes.add(task)
                task.add_done_callback(self._flushes.discard)

    def _flusher_ended(self, task: asyncio.Task[None]) -> None:
        """The flusher only ends when cancelled (close). Should a bug end it, the deliveries
        waiting now get 503 and the next one starts a new flusher: never requests that hang."""
        if task.cancelled() or task is not self._flusher:
            return
        logger.error("webhook group flusher stopped", exc_info=task.exception())
        self._flusher = None
        self._fail(self._waiting, NotStored("the group flusher stopped"))
        self._waiting, self._waiting_bytes = [], 0

    async def _sleep(self, seconds: float | None) -> None:
        """Until woken (a delivery, a group done, closing) or `seconds` pass. The flag is cleared
        right before the wait with no await in between, so no wake-up is lost."""
        self._wake.clear()
        try:
            async with asyncio.timeout(seconds):
                await self._wake.wait()
        except TimeoutError:
            pass

    def _is_full(self) -> bool:
        return len(self._waiting) >= self._max_size or self._waiting_bytes >= self.GROUP_MAX_BYTES

    def _take(self) -> list[_Waiting]:
        """The next group, oldest first. A request already cancelled (its client went away) is
        dropped here: nobody waits for its answer, and Meta re-sends what it was not answered."""
        group: list[_Waiting] = []
        size = 0
        taken = 0
        for waiting in self._waiting:
            if len(group) >= self._max_size or (group and size + len(waiting.delivery[0]) > self.GROUP_MAX_BYTES):
                break
            taken += 1
            if not waiting.answer.done():
                group.append(waiting)
                size += len(waiting.delivery[0])
        for waiting in self._waiting[:taken]:
            self._waiting_bytes -= len(waiting.delivery[0])
        del self._waiting[:taken]
        return group

    def _expire(self, *, before: float) -> None:
        expired = 0
        while expired < len(self._waiting) and self._waiting[expired].arrived <= before:
            expired += 1
        stale = self._waiting[:expired]
        del self._waiting[:expired]
        self._waiting_bytes -= sum(len(waiting.delivery[0]) for waiting in stale)
        logger.warning("webhooks not stored: no database connection in time", extra={"count": len(stale)})
        self._fail(stale, NotStored("no database connection in time"))

    async def _flush(self, group: list[_Waiting]) -> None:
        try:
            try:
                ids = await self._store([waiting.delivery for waiting in group])
            except Exception:
                logger.exception("webhook group not stored", extra={"count": len(group)})
                self._fail(group, NotStored("database unavailable"))
                return
            finally:
                # The connection is back in the pool: the next group may go while this one's
                # hand-over is on its way to Redis.
                self._in_flight -= 1
                self._wake.set()
            try:
                await self._hand_over(
                    [event_id for waiting, event_id in zip(group, ids, strict=True) if not waiting.delivery[3]]
                )
            finally:
                # Committed is what an answer promises: a hand-over cut short (shutdown) leaves the
                # rows pending for the sweeper, exactly like Redis being down.
                for waiting, event_id in zip(group, ids, strict=True):
                    if not waiting.answer.done():
                        waiting.answer.set_result(event_id)
        finally:
            # Cancelled before the commit (shutdown past its deadline): never leave a request hanging.
            self._fail(group, NotStored("the intake stopped before the group was stored"))

    @staticmethod
    def _fail(group: list[_Waiting], error: NotStored) -> None:
        for waiting in group:
            if not waiting.answer.done():
                waiting.answer.set_exception(error)
