"""The campaign engine: the audience snapshot at launch and the batch jobs that send it.

A batch job streams its recipients through the one send path (whatsapp/sending/), the same rules,
claim, Graph calls and outcome writes as every one-off send; `source.CampaignSource` only says
which recipients are due, renders each one's template, and makes a stop a campaign's: a
disconnected or deactivated number, a template no longer sendable or refused by Meta, a dead
token or a restricted account pause the campaign with the reason (its recipients stay queued for
the resume); a kill-switch holds it ("Held: …") until it is back on.

A Redis lock per batch (refreshed every chunk) keeps one job per batch; the one sweeper of sends
(whatsapp/sending/sweeper.py, with `requeue_due_batches` registered) re-enqueues batches with due
recipients and no live job — after a worker was killed, Redis restarted, a retry came due or a
kill-switch was turned back on.
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
from campaigns.engine.constants import (
    BATCH_SIZE,
    CALLBACK_PREFIX,
    CHUNK_MAX,
    LOST_JOB_AFTER,
    SENDING_TIMEOUT,
)
from campaigns.engine.snapshot import snapshot
from campaigns.engine.source import CampaignSource
from campaigns.engine.statuses import campaign_status_apply
from campaigns.engine.sweeper import due_batches, requeue_due_batches, running_campaigns_finish, start_scheduled

__all__ = [
    "BATCH_SIZE",
    "CALLBACK_PREFIX",
    "CHUNK_MAX",
    "LOST_JOB_AFTER",
    "SENDING_TIMEOUT",
    "CampaignSource",
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
    "requeue_due_batches",
    "start_scheduled",
]
