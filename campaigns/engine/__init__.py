"""The campaign engine: the audience snapshot at launch and the batch jobs that send it.

The rules are the dispatcher's (whatsapp/dispatch.py), applied to a chunk of recipients at a time:

1. the gate, before every chunk: the campaign still running, the kill-switches (global, workspace)
   on, the number connected and active, every variant's template still sendable — a pause, a
   cancel, a switch flip, a disconnected or deactivated number stops new sends within one chunk (a
   chunk is at most a quarter of a second of the number's rate);
2. tokens for the chunk: the number's bucket, then the workspace's per-minute and per-day quota;
3. per recipient, in one transaction with the claim: consent, quiet hours and the frequency cap
   (`compliance.policy.can_send`), the variable values, the 6-second pair limit and the portfolio's
   messaging limit (one Redis round trip each for the whole chunk); refused ones are skipped or
   held with the time they may go, the rest claimed `queued → sending` and committed before Meta
   is called (a killed worker leaves `sending`: `unknown` later, never sent twice);
4. the Graph calls, concurrently on one keep-alive session;
5. the results in bulk: `sent` (+ the inbox), retries with backoff, `unknown`, `failed` with
   Meta's code and what it means (classified by `dispatch.classify_failure`).

A Redis lock per batch (refreshed every chunk) keeps one job per batch; the minutely sweeper
(`due_batches`) re-enqueues batches with due recipients and no live job — after a worker was
killed, Redis restarted, a retry came due or a kill-switch was turned back on.
"""

from campaigns.engine.batches import (
    batch_is_running,
    batch_lock_key,
    batches_of,
    enqueue_batch_jobs,
    enqueue_batches,
    finish_if_done,
    send_batch,
)
from campaigns.engine.chunks import BatchSender
from campaigns.engine.constants import (
    BATCH_SIZE,
    CALLBACK_PREFIX,
    CHUNK_MAX,
    LOST_JOB_AFTER,
    SENDING_TIMEOUT,
)
from campaigns.engine.snapshot import snapshot
from campaigns.engine.statuses import campaign_status_apply
from campaigns.engine.sweeper import due_batches, running_campaigns_finish, stale_sends_mark_unknown, start_scheduled

__all__ = [
    "BATCH_SIZE",
    "CALLBACK_PREFIX",
    "CHUNK_MAX",
    "LOST_JOB_AFTER",
    "SENDING_TIMEOUT",
    "BatchSender",
    "batch_is_running",
    "batch_lock_key",
    "batches_of",
    "campaign_status_apply",
    "due_batches",
    "enqueue_batch_jobs",
    "enqueue_batches",
    "finish_if_done",
    "running_campaigns_finish",
    "send_batch",
    "snapshot",
    "stale_sends_mark_unknown",
    "start_scheduled",
]
