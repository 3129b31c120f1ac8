"""The hand-over from intake to processing: a Redis list of ready event ids, drained by a few jobs.

One RQ job per webhook cost more (in the request and in the worker) than storing the event, so the
intake pushes the event id onto a list and starts a drain job only when fewer than
`WEBHOOK_DRAINERS` are already at work: one Lua call, one round trip. A drainer takes ids in
batches of about `WEBHOOK_BATCH_MS` of work (at most `WEBHOOK_BATCH_SIZE` ids) and processes
each batch together (webhooks/batches.py: one transaction per batch, a failed batch retried event
by event). Every state lives in Postgres: if Redis loses
the list, a drainer dies with ids in hand, or Redis is down at intake, the rows are still pending
and the sweeper (every 5 minutes and on worker start) pushes them again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from django.conf import settings

from aerostic.core import queues

logger = logging.getLogger(__name__)

READY_KEY = "aerostic:webhooks:ready"
DRAINER_KEY = "aerostic:webhooks:drainer:"
DRAINER_TTL_SECONDS = 60
FIRST_BATCH = 50  # events a drainer takes first, before it knows how long they take

# LPUSH the ids, then claim a free drainer slot (1..N) if there is one: returns its number or 0.
PUSH_AND_CLAIM = """
redis.call('LPUSH', KEYS[1], unpack(ARGV, 3))
for slot = 1, tonumber(ARGV[1]) do
  if redis.call('SET', KEYS[2] .. slot, '1', 'NX', 'EX', tonumber(ARGV[2])) then return slot end
end
return 0
"""


def mark_ready(event_ids: Iterable[int]) -> bool:
    """False when Redis is unavailable: the events stay pending for the sweeper."""
    ids = [int(event_id) for event_id in event_ids]
    if not ids:
        return True
    try:
        redis = queues.redis_connection()
        slot = int(
            redis.eval(PUSH_AND_CLAIM, 2, READY_KEY, DRAINER_KEY, settings.WEBHOOK_DRAINERS, DRAINER_TTL_SECONDS, *ids)
        )
        if slot:
            start_drainer(slot)
        return True
    except Exception:
        logger.warning("webhook events kept pending: queue unavailable", extra={"count": len(ids)})
        return False


def start_drainer(slot: int) -> None:
    from whatsapp.jobs import drain_webhook_events

    try:
        queues.get_queue("webhooks").enqueue(drain_webhook_events, slot=slot)
    except Exception:
        queues.redis_connection().delete(f"{DRAINER_KEY}{slot}")
        raise


def drain(slot: int, *, max_seconds: float = 30.0) -> int:
    """Process ready events until the list is empty (then free the slot) or time is up (then hand
    the slot to a fresh job, so a long backlog never hits the job timeout). Returns how many.

    Redis lost mid-drain: the batch in hand is processed all the same (Postgres holds every
    state), and the drainer stops there; ids lost with Redis are still pending rows, which the
    sweeper hands over once Redis is back, and the slot key expires with the old server."""
    from redis.exceptions import RedisError

    from whatsapp.webhooks.batches import process_events

    redis = queues.redis_connection()
    slot_key = f"{DRAINER_KEY}{slot}"
    deadline = time.monotonic() + max_seconds
    done, size = 0, min(FIRST_BATCH, settings.WEBHOOK_BATCH_SIZE)
    while True:
        try:
            ids = _next_batch(redis, slot_key, size)
        except RedisError:
            logger.warning("webhook drainer stopped: queue unavailable; the sweeper hands pending events over")
            return done
        if ids is None:
            return done
        started = time.monotonic()
        process_events([int(raw) for raw in ids])
        done += len(ids)
        size = next_batch_size(size, len(ids), time.monotonic() - started)
        if time.monotonic() > deadline:
            start_drainer(slot)
            return done


def next_batch_size(size: int, taken: int, seconds: float) -> int:
    """How many events to take next so a batch takes about WEBHOOK_BATCH_MS: a delivery may
    carry one status or a hundred, so a count alone would make some batches (and their locks and
    transactions) a hundred times longer than others, and leave a second drainer nothing to take
    while the first holds the whole backlog. Grows at most twofold per batch."""
    if taken < size:  # the list ran short: the batch says nothing about a full one
        return size
    wanted = int(size * settings.WEBHOOK_BATCH_MS / 1000 / max(seconds, 0.001))
    return max(1, min(settings.WEBHOOK_BATCH_SIZE, 2 * size, wanted))


def _next_batch(redis: Any, slot_key: str, size: int) -> list[bytes] | None:
    """The next ids, or None when the list is empty (the slot freed)."""
    while True:
        redis.expire(slot_key, DRAINER_TTL_SECONDS)
        ids = redis.rpop(READY_KEY, size) or []
        if ids:
            return ids
        redis.delete(slot_key)
        # An id pushed between our empty pop and the delete found every slot taken: look again.
        if not (redis.llen(READY_KEY) and redis.set(slot_key, "1", nx=True, ex=DRAINER_TTL_SECONDS)):
            return None
