"""The engine's numbers: batch size, timeouts, the markers it writes (chunk sizes, concurrency and
locks are the send path's: whatsapp/sending/sender.py and chain.py)."""

from __future__ import annotations

from datetime import timedelta

from whatsapp.sending.sender import CHUNK_MAX
from whatsapp.sending.sweeper import SENDING_TIMEOUT

BATCH_SIZE = 250  # recipients per batch job
LOST_JOB_AFTER = timedelta(seconds=30)
CALLBACK_PREFIX = "aerostic:campaign:"
HELD = "Held:"  # a running campaign's status_reason while a kill-switch or Meta's outage holds it

__all__ = ["BATCH_SIZE", "CALLBACK_PREFIX", "CHUNK_MAX", "HELD", "LOST_JOB_AFTER", "SENDING_TIMEOUT"]
