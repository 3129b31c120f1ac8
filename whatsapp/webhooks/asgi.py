"""Meta's webhook POSTs on the ASGI server: verify, store, hand over, 200 — on the event loop.

The web tier runs gunicorn with uvicorn workers (aerostic.server). Every `POST /webhooks/meta/`
is answered here without Django's request machinery, middleware or thread hop: the body is read
from the socket, its HMAC checked, the body encrypted, its row stored through a small async
connection pool and its id pushed onto the ready list (webhooks/ready.py). Thousands of deliveries
can wait on Postgres at once without a thread each, which is what let a 2-core machine take Meta's
bursts. The rules are the intake view's (webhooks/intake.py shares them: signature, body
inspection and sealing, the stored row, the per-address limit on signature failures); GET
verification and every other request go to Django unchanged.
Concurrent deliveries are stored by group commit (webhooks/group_commit.py): nothing is
acknowledged before its row is committed.

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
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import redis.asyncio as aioredis
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from psycopg_pool import AsyncConnectionPool

from aerostic.core import metrics
from aerostic.core.clientip import client_ip_from
from whatsapp.webhooks import intake, ready
from whatsapp.webhooks.group_commit import GroupCommitter, NotStored

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/meta/"

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class BodyTooLarge(Exception):
    pass


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
            started = time.perf_counter()
            status, answer = await self.handle(scope, receive)
            await _respond(send, status, answer, retry_after=self.RETRY_AFTER_SECONDS)
            metrics.WEBHOOK_DELIVERIES.labels(str(status)).inc()
            metrics.observe_request(WEBHOOK_PATH, status, time.perf_counter() - started)
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
                # Buffered, not awaited: a pipeline's commands go in one round trip at execute().
                pipe.incr(key)
                pipe.expire(key, 120)
                pipe.incr(intake.REJECTED_COUNTER)
                failures, _, rejected = await pipe.execute()
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
