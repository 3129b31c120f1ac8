"""Meta's webhook POSTs on the ASGI server: verify, store, hand over, 200 — on the event loop.

The web tier runs gunicorn with uvicorn workers (aerostic.server). Every `POST /webhooks/meta/`
is answered here without Django's request machinery, middleware or thread hop: the body is read
from the socket, its HMAC checked, the body encrypted, its row stored through a small async
connection pool and its id pushed onto the ready list (webhooks/ready.py). Thousands of deliveries
can wait on Postgres at once without a thread each, which is what let a 2-core machine take Meta's
bursts. The rules are the intake view's (webhooks/intake.py shares them: signature, body
inspection and sealing, the stored row, the per-address limit on signature failures); GET
verification and every other request go to Django unchanged.

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

What the sync view gets from Django is done here by hand: the host check (ALLOWED_HOSTS), HTTPS
only in production (SECURE_PROXY_SSL_HEADER), the client address (aerostic.core.clientip, as
everywhere), the body size limit while reading. Reading the body is bounded in time
(WEBHOOK_BODY_TIMEOUT_SECONDS: 408) and in number per worker (WEBHOOK_MAX_CONCURRENT_READS: 503
with Retry-After, so Meta re-sends), so slow senders cannot pile up open reads.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from psycopg_pool import AsyncConnectionPool

from aerostic.core.clientip import client_ip_from
from whatsapp.webhooks import intake, ready

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/meta/"

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class BodyTooLarge(Exception):
    pass


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


class WebhookIntake:
    """ASGI wrapper: webhook POSTs here, everything else to `app` (Django's ASGI handler)."""

    POOL_TIMEOUT = 5.0  # seconds to wait for a database connection before answering 503
    RETRY_AFTER_SECONDS = 5  # sent with every 503: Meta re-sends the delivery

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app
        self._pool: AsyncConnectionPool | None = None
        self._redis: aioredis.Redis | None = None
        self._opening = asyncio.Lock()
        self._reading = 0  # bodies being read right now (one event loop per worker: no lock)
        self._committer: GroupCommitter | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http" and scope["path"] == WEBHOOK_PATH and scope["method"] == "POST":
            status, answer = await self.handle(scope, receive)
            await _respond(send, status, answer, retry_after=self.RETRY_AFTER_SECONDS)
        else:
            await self.app(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive) -> tuple[int, dict[str, Any]]:
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        if not _host_allowed(headers):
            return 400, {"error": "Unknown host."}
        if getattr(settings, "SECURE_SSL_REDIRECT", False) and not _is_secure(scope, headers):
            return 403, {"error": "HTTPS required."}
        try:
            declared = int(headers.get("content-length") or 0)
        except ValueError:
            declared = 0
        if declared > settings.WEBHOOK_MAX_BYTES:
            return 413, {"error": "Body too large."}
        if self._reading >= settings.WEBHOOK_MAX_CONCURRENT_READS:
            return 503, {"error": "Too many deliveries being received; retry shortly."}
        self._reading += 1
        try:
            async with asyncio.timeout(settings.WEBHOOK_BODY_TIMEOUT_SECONDS):
                body = await _read_body(receive, settings.WEBHOOK_MAX_BYTES)
        except BodyTooLarge:
            return 413, {"error": "Body too large."}
        except TimeoutError:
            return 408, {"error": "Body not received in time."}
        finally:
            self._reading -= 1
        if not intake.signature_is_valid(body, headers.get("x-hub-signature-256", "")):
            # Only failures count against an address: a signed delivery is never rate limited.
            return await self._refuse_unsigned(_client_ip(scope))

        delivery = intake.inspect_body(body)  # signature checked on the raw bytes first
        try:
            await self.committer().store(delivery)  # committed and handed over: then, only then, 200
        except NotStored:
            return 503, {"error": "Temporarily unavailable."}
        return 200, {"received": True}

    def committer(self) -> GroupCommitter:
        if self._committer is None:  # one per worker process, on its event loop, made on first use
            self._committer = GroupCommitter(
                store=self._store,
                hand_over=self._mark_ready,
                max_size=settings.WEBHOOK_GROUP_MAX,
                window_seconds=settings.WEBHOOK_GROUP_WINDOW_MS / 1000,
                max_in_flight=settings.WEBHOOK_INTAKE_DB_CONNECTIONS,
                connection_timeout=self.POOL_TIMEOUT,
            )
        return self._committer

    # --- Postgres

    async def _database(self) -> AsyncConnectionPool:
        if self._pool is None:
            async with self._opening:  # one pool per worker process, opened on first use
                if self._pool is None:
                    pool = AsyncConnectionPool(
                        kwargs=_connection_kwargs(),
                        min_size=1,
                        max_size=settings.WEBHOOK_INTAKE_DB_CONNECTIONS,
                        timeout=self.POOL_TIMEOUT,
                        open=False,
                        name="webhook-intake",
                    )
                    await pool.open(wait=False)
                    self._pool = pool
        return self._pool

    async def _store(self, deliveries: Sequence[intake.Delivery]) -> list[int]:
        """One group, one transaction: the ids in delivery order once COMMIT has returned."""
        pool = await self._database()
        async with pool.connection() as conn:
            # The platform scope is transaction-local, as everywhere (aerostic.core.rls): the pooled
            # connection carries nothing into its next use. Scope, INSERT and COMMIT go in one
            # round trip; an error in any of them raises here and the transaction is rolled back.
            async with conn.pipeline():
                await conn.execute("SELECT set_config('app.platform', 'on', true)")
                cursor = await conn.execute(intake.INSERT_EVENTS, intake.insert_events_params(deliveries))
                await conn.commit()
            rows = await cursor.fetchall()
        return intake.inserted_ids(rows, len(deliveries))

    # --- Redis: signature failures per address, rejection counter, hand-over to processing

    def _cache(self) -> aioredis.Redis:
        if self._redis is None:
            # Short timeouts: a Redis outage must cost an ACK milliseconds, not seconds.
            self._redis = aioredis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=1)
        return self._redis

    async def _refuse_unsigned(self, ip: str | None) -> tuple[int, dict[str, Any]]:
        try:
            key = intake.rate_key(ip)
            async with self._cache().pipeline(transaction=False) as pipe:
                failures, _, rejected = await pipe.incr(key).expire(key, 120).incr(intake.REJECTED_COUNTER).execute()
        except Exception:  # Redis down: still refused, just not counted
            failures, rejected = 0, 1
        return intake.unsigned_answer(failures, rejected)

    async def _mark_ready(self, event_ids: list[int]) -> None:
        """A group's pending ids onto the ready list in one call. Redis down → the rows stay
        pending and the sweeper hands them over later."""
        if not event_ids:
            return
        try:
            slot = int(
                await self._cache().eval(
                    ready.PUSH_AND_CLAIM,
                    2,
                    ready.READY_KEY,
                    ready.DRAINER_KEY,
                    settings.WEBHOOK_DRAINERS,
                    ready.DRAINER_TTL_SECONDS,
                    *event_ids,
                )
            )
            if slot:
                # RQ's enqueue is synchronous; it runs only when a drainer slot was free.
                await asyncio.to_thread(ready.start_drainer, slot)
        except Exception:
            logger.warning("webhook events kept pending: queue unavailable", extra={"count": len(event_ids)})

    # --- lifecycle

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def close(self) -> None:
        if self._committer is not None:
            # Before the pool closes: what is waiting is stored (or fails with 503) first.
            await self._committer.close(timeout=self.POOL_TIMEOUT + 5)
            self._committer = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None


def _connection_kwargs() -> dict[str, Any]:
    """Django's own connection parameters (DATABASE_URL, OPTIONS), minus its sync-only classes."""
    from django.db import connections

    params = connections["default"].get_connection_params()
    for sync_only in ("cursor_factory", "context"):
        params.pop(sync_only, None)
    return {**params, "autocommit": False}


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _host_allowed(headers: dict[str, str]) -> bool:
    """Django's HttpRequest.get_host() rules, without building a request."""
    host = headers.get("x-forwarded-host") if settings.USE_X_FORWARDED_HOST else None
    host = host or headers.get("host", "")
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    domain, _port = split_domain_port(host)
    return bool(domain) and validate_host(domain, allowed)


def _is_secure(scope: Scope, headers: dict[str, str]) -> bool:
    """Django's HttpRequest.is_secure(): the trusted proxy header when configured, else the scheme."""
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        name, secure_value = proxy_header
        value = headers.get(name.removeprefix("HTTP_").replace("_", "-").lower())
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return scope.get("scheme") == "https"


def _client_ip(scope: Scope) -> str | None:
    """The address Django would resolve for this request: repeated X-Forwarded-For headers are
    joined in order, as Django's ASGI handler joins them."""
    client = scope.get("client")
    forwarded = [value.decode("latin-1") for name, value in scope["headers"] if name.lower() == b"x-forwarded-for"]
    return client_ip_from(client[0] if client else None, ",".join(forwarded) or None)


async def _respond(send: Send, status: int, answer: dict[str, Any], *, retry_after: int) -> None:
    body = json.dumps(answer).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 503:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
