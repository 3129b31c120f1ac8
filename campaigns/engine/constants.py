"""The engine's numbers: batch and chunk sizes, timeouts, the markers it writes."""

from __future__ import annotations

import logging
from datetime import timedelta

from campaigns.models import Campaign, CampaignMessage

logger = logging.getLogger(__name__)

State = CampaignMessage.State
Status = Campaign.Status

BATCH_SIZE = 250  # recipients per batch job
CHUNK_MAX = 50  # recipients claimed and sent together
GATE_INTERVAL = 0.2  # seconds between two reads of the pause / kill-switch / template gate
CHUNK_SECONDS = 0.25  # a chunk is at most this much of the number's rate: pauses bite within it
CONCURRENCY = 16  # Graph calls in flight per batch job
SWITCH_INTERVAL = 0.0005
LOCK_SECONDS = 30
QUEUED_MARK_SECONDS = 900  # a batch job waiting in the queue longer than this is taken as lost
SENDING_TIMEOUT = timedelta(minutes=2)
LOST_JOB_AFTER = timedelta(seconds=30)
SCHEDULE_AHEAD = timedelta(minutes=15)
QUOTA_WAIT_MAX = 5.0  # a longer wait for the workspace's quota holds the batch for the sweeper
CALLBACK_PREFIX = "aerostic:campaign:"
HELD = "Held:"  # a running campaign's status_reason while a kill-switch or Meta's outage holds it
BREAKER_OPEN = "Calls to Meta are paused after repeated failures; they resume shortly."
