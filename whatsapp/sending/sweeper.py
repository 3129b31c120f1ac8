"""The one sweeper of sends (every minute, platform scope: `whatsapp.jobs.sweep_outbound`).

For every table of sends: claimed sends whose worker died before Meta answered become `unknown`
(never re-sent blindly; a status settles them), and every kind of stream with due rows and no live
job is enqueued again — one-off sends per number (whatsapp/dispatch.py), campaign batches
(campaigns registers its finder from its AppConfig, so whatsapp never names it). Due rows are the
held ones whose time has come and the ones a lost job (killed worker, Redis restart) left behind.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.utils import timezone

from whatsapp.sending.ledger import stale_sends_mark_unknown

SENDING_TIMEOUT = timedelta(minutes=2)  # a claim older than this with no answer is `unknown`

# requeue(now) -> how many streams it enqueued again
DueStreams = Callable[[datetime], int]
_due_streams: list[DueStreams] = []


def on_sweep(requeue: DueStreams) -> DueStreams:
    """Registers a kind of stream's re-enqueueing of its due streams (once per function)."""
    if requeue not in _due_streams:
        _due_streams.append(requeue)
    return requeue


def sweep(*, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    unknown = stale_sends_mark_unknown(cutoff=now - SENDING_TIMEOUT)
    requeued = sum(requeue(now) for requeue in _due_streams)
    return {"unknown": unknown, "requeued": requeued}
