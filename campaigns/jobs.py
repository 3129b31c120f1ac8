"""RQ entry points of campaigns (thin): one batch job, and the minutely sweeper."""

from __future__ import annotations

from typing import Any

from aerostic.core import queues
from aerostic.core.jobs import enqueue_on_commit, platform_job, tenant_job

# The engine enqueues these jobs, so each job imports the engine when it runs (a cycle inside campaigns).


@tenant_job(atomic=False)
def send_batch(*, tenant_id: int, campaign_id: int, batch: int) -> dict[str, Any]:
    """Not one transaction: each chunk's claim commits before Meta is called (campaigns/engine/)."""
    from campaigns import engine

    return engine.send_batch(campaign_id, batch)


@platform_job("campaigns: start scheduled, complete finished")
def sweep_campaigns() -> dict[str, int]:
    """Every minute: scheduled campaigns whose time came start, running ones with nothing left
    complete. Lost or due batches and stale claims are the one sweeper of sends' (whatsapp.jobs.sweep_outbound)."""
    from campaigns import engine

    started = engine.start_scheduled()
    # After commit: a job must find its campaign running.
    for campaign in started:
        engine.enqueue_batches(campaign)
    completed = engine.running_campaigns_finish()
    return {"started": len(started), "completed": completed}


@platform_job("campaigns: a kill-switch came back on")
def wake_campaigns(*, tenant_id: int | None = None) -> int:
    """Held batches go again at once instead of at the next sweep (a kill-switch turned back on)."""
    from datetime import timedelta

    from campaigns import engine

    due = engine.due_batches(tenant_id=tenant_id, quiet_for=timedelta(0))
    engine.enqueue_batch_jobs(due)
    return len(due)


def enqueue_wake_campaigns(*, tenant_id: int | None) -> None:
    """A kill-switch came back on (compliance.services.on_sending_resumed): wake_campaigns once
    the flip commits."""
    enqueue_on_commit(wake_campaigns, queue=queues.CAMPAIGNS, tenant_id=tenant_id)
