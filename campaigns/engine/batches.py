"""Batch jobs in and out: enqueueing, the one-job-per-batch lock, the batch loop, completion."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from aerostic import queues
from campaigns.engine.chunks import BatchSender, Recipient
from campaigns.engine.constants import (
    BREAKER_OPEN,
    CHUNK_SECONDS,
    CONCURRENCY,
    GATE_INTERVAL,
    HELD,
    LOCK_SECONDS,
    QUEUED_MARK_SECONDS,
    QUOTA_WAIT_MAX,
    SCHEDULE_AHEAD,
    SWITCH_INTERVAL,
)
from campaigns.engine.writes import note_hold, pause_campaign
from campaigns.models import Campaign, CampaignMessage
from whatsapp import ratelimits

logger = logging.getLogger(__name__)

State = CampaignMessage.State
Status = Campaign.Status


def batches_of(campaign: Campaign) -> list[int]:
    """The batches with recipients still queued (any scope: filtered by the campaign)."""
    return list(
        CampaignMessage.all_tenants.filter(campaign_id=campaign.pk, state=State.QUEUED)
        .order_by("batch")
        .values_list("batch", flat=True)
        .distinct()
    )


def enqueue_batches(campaign: Campaign, batches: list[int] | None = None) -> int:
    """After commit: one job per batch with recipients still queued."""
    if batches is None:
        batches = batches_of(campaign)
    enqueue_batch_jobs([(campaign.tenant_id, campaign.pk, batch) for batch in batches])
    return len(batches)


def enqueue_batch_jobs(jobs: list[tuple[int, int, int]]) -> None:
    """After commit, a `send_batch` job per (tenant, campaign, batch), each marked as waiting in
    the queue so the sweeper does not add another while it waits (large campaigns queue many)."""
    if not jobs:
        return

    def enqueue() -> None:
        from campaigns.jobs import send_batch

        queue = queues.get_queue(queues.CAMPAIGNS)
        redis = queues.redis_connection()
        try:
            for tenant_id, campaign_id, batch in jobs:
                redis.set(batch_queued_key(campaign_id, batch), "1", ex=QUEUED_MARK_SECONDS)
                queue.enqueue(send_batch, tenant_id=tenant_id, campaign_id=campaign_id, batch=batch)
        except Exception:  # Redis down: the sweeper enqueues them when it is back
            logger.warning("campaign batches not enqueued; the sweeper will", extra={"batches": len(jobs)})

    transaction.on_commit(enqueue)


def batch_queued_key(campaign_id: int, batch: int) -> str:
    return f"aerostic:campaign:{campaign_id}:batch:{batch}:queued"


def batch_lock_key(campaign_id: int, batch: int) -> str:
    return f"aerostic:campaign:{campaign_id}:batch:{batch}:job"


@contextlib.contextmanager
def _batch_lock(campaign_id: int, batch: int) -> Iterator[Any]:
    """One live job per batch: a second job for it (the sweeper's, a re-delivered one) leaves at once."""
    redis = queues.redis_connection()
    key, token = batch_lock_key(campaign_id, batch), f"{time.time()}"
    if not redis.set(key, token, nx=True, ex=LOCK_SECONDS):
        yield None
        return
    try:
        yield lambda: redis.expire(key, LOCK_SECONDS)
    finally:
        with contextlib.suppress(Exception):
            if redis.get(key) in (token, token.encode()):
                redis.delete(key)


def batch_is_running(campaign_id: int, batch: int) -> bool:
    """A job holds the batch, or one waits for it in the queue."""
    keys = (batch_lock_key(campaign_id, batch), batch_queued_key(campaign_id, batch))
    return bool(queues.redis_connection().exists(*keys))


def send_batch(campaign_id: int, batch: int) -> dict[str, Any]:
    """Sends what the batch may send now. Inside the tenant's context (campaigns.jobs.send_batch)."""
    from whatsapp.selectors import phone_sending_problem
    from whatsapp.services import ConnectionProblem

    with _batch_lock(campaign_id, batch) as keep_alive:
        if keep_alive is None:
            return {"result": "another job is on this batch"}
        with contextlib.suppress(Exception):
            queues.redis_connection().delete(batch_queued_key(campaign_id, batch))
        campaign = Campaign.objects.select_related("phone_number__account", "tenant").filter(pk=campaign_id).first()
        if campaign is None or campaign.status != Status.RUNNING:
            return {"result": f"campaign {campaign.status if campaign else 'gone'}"}
        problem = phone_sending_problem(campaign.phone_number_id)  # before its missing token is the reason
        if problem:
            pause_campaign(campaign_id, problem)
            return {"result": "paused", "reason": problem}
        try:
            engine = BatchSender(campaign, batch)
        except ConnectionProblem as problem:
            pause_campaign(campaign_id, problem.message)
            return {"result": "paused", "reason": problem.message}
        result = "done"
        pending: tuple[list[Recipient], list[Future]] | None = None
        pool = _pool()
        switch_interval = sys.getswitchinterval()
        # The sending threads would keep the GIL for 5 ms slices while this thread waits on
        # Postgres after every query (a convoy): shorter slices hand it back sooner.
        sys.setswitchinterval(SWITCH_INTERVAL)
        try:
            checked = 0.0
            while True:
                if time.monotonic() - checked >= GATE_INTERVAL:
                    # At most five times a second: waiting for tokens at 80 msg/s would otherwise
                    # ask the database dozens of times a second; a pause still bites within 0.2 s.
                    keep_alive()
                    stop = engine.stop_reason()
                    checked = time.monotonic()
                    if stop:
                        result = f"stopped: {stop}"
                        break
                try:
                    count, wait, why = engine.tokens()
                except ratelimits.RateLimitUnavailable:
                    result = "stopped: rate limits unavailable"  # the sweeper re-enqueues the batch
                    break
                if not count:
                    if pending is not None:  # its outcome may be what decides the wait (a failed probe)
                        engine.record_sent(pending)
                        pending = None
                        continue
                    if wait > QUOTA_WAIT_MAX:
                        _hold_batch(campaign_id, batch, timezone.now() + timedelta(seconds=wait), why)
                        if why == BREAKER_OPEN:
                            note_hold(campaign_id, f"{HELD} {why}")  # cleared by the gate once sending again
                        result = f"held: {why}"
                        break
                    time.sleep(min(wait, CHUNK_SECONDS))
                    continue
                try:
                    items = engine.claim(count, timezone.now())
                except ratelimits.RateLimitUnavailable:
                    result = "stopped: rate limits unavailable"
                    break
                if not items:
                    if pending is not None:
                        engine.record_sent(pending)
                        pending = None
                    if not _claimable(campaign_id, batch):
                        break
                    continue
                chunk = engine.send(pool, items)
                if pending is not None:
                    engine.record_sent(pending)
                pending = chunk
        finally:
            if pending is not None:
                engine.record_sent(pending)  # whatever stopped the loop, what was sent is written
            sys.setswitchinterval(switch_interval)
        _schedule_next(campaign)
    finish_if_done(campaign_id)
    return {"result": result, **engine.counts}


_POOLS: dict[int, ThreadPoolExecutor] = {}


def _pool() -> ThreadPoolExecutor:
    """One pool per worker process (RQ runs jobs in-process here: aerostic/worker.py), so a batch
    job does not start and stop its threads."""
    pool = _POOLS.get(os.getpid())
    if pool is None:
        pool = _POOLS[os.getpid()] = ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="campaign-send")
    return pool


def _claimable(campaign_id: int, batch: int) -> bool:
    return (
        CampaignMessage.objects.filter(campaign_id=campaign_id, batch=batch, state=State.QUEUED)
        .exclude(next_attempt_at__gt=timezone.now())
        .exists()
    )


def _hold_batch(campaign_id: int, batch: int, until: datetime, reason: str) -> None:
    CampaignMessage.objects.filter(campaign_id=campaign_id, batch=batch, state=State.QUEUED).exclude(
        next_attempt_at__gt=until
    ).update(next_attempt_at=until, hold_reason=reason[:255], updated_at=timezone.now())


def _schedule_next(campaign: Campaign) -> None:
    """Recipients held for a few seconds or minutes (pair limit, retries): the batch job comes back
    for them on RQ's scheduler; later ones are the sweeper's."""
    from django.db.models import Min

    from campaigns.jobs import send_batch

    now = timezone.now()
    due = (
        CampaignMessage.objects.filter(campaign=campaign, state=State.QUEUED, next_attempt_at__gt=now)
        .values("batch")
        .annotate(at=Min("next_attempt_at"))
    )
    queue = queues.get_queue(queues.CAMPAIGNS)
    for row in due:
        if row["at"] - now <= SCHEDULE_AHEAD:
            delay = row["at"] - now + timedelta(seconds=1)
            with contextlib.suppress(Exception):
                queue.enqueue_in(
                    delay, send_batch, tenant_id=campaign.tenant_id, campaign_id=campaign.pk, batch=row["batch"]
                )


def finish_if_done(campaign_id: int) -> bool:
    """Completed when nothing is queued or in flight (`unknown` ones are settled by statuses later)."""
    now = timezone.now()
    in_flight = CampaignMessage.objects.filter(campaign_id=campaign_id, state__in=(State.QUEUED, State.SENDING))
    changed = (
        Campaign.objects.filter(pk=campaign_id, status=Status.RUNNING)
        .exclude(pk__in=in_flight.values("campaign_id"))
        .update(status=Status.COMPLETED, status_reason="", finished_at=now, updated_at=now)
    )
    return bool(changed)
