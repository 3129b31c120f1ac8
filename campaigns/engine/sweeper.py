"""The minutely sweeper's reads and writes (platform scope)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.utils import timezone

from campaigns.engine.batches import batch_is_running, finish_if_done
from campaigns.engine.constants import LOST_JOB_AFTER
from campaigns.models import Campaign, CampaignMessage
from campaigns.status import campaigns_status_update

logger = logging.getLogger(__name__)

State = CampaignMessage.State
Status = Campaign.Status


def start_scheduled(now: datetime | None = None) -> list[Campaign]:
    """Scheduled campaigns whose time has come start running."""
    now = now or timezone.now()
    started = []
    for campaign in Campaign.all_tenants.filter(status=Status.SCHEDULED, send_at__lte=now):
        changed = campaigns_status_update(
            Campaign.all_tenants.filter(pk=campaign.pk, status=Status.SCHEDULED),
            to=Status.RUNNING,
            now=now,
            started_at=now,
        )
        if changed:
            started.append(campaign)
    return started


def due_batches(
    now: datetime | None = None, *, tenant_id: int | None = None, quiet_for: timedelta = LOST_JOB_AFTER
) -> list[tuple[int, int, int]]:
    """(tenant_id, campaign_id, batch) of running campaigns' batches with due recipients, untouched
    for `quiet_for`, and no live job: their job was lost (killed worker, Redis restarted), a hold
    ended, a switch came back on. Platform scope; `tenant_id` narrows it to one workspace."""
    now = now or timezone.now()
    due = CampaignMessage.all_tenants.filter(
        campaign__status=Status.RUNNING, state=State.QUEUED, updated_at__lt=now - quiet_for
    )
    if tenant_id is not None:
        due = due.filter(tenant_id=tenant_id)
    rows = due.exclude(next_attempt_at__gt=now).values_list("tenant_id", "campaign_id", "batch").distinct()
    return [row for row in rows if not batch_is_running(row[1], row[2])]


def requeue_due_batches(now: datetime) -> int:
    """The one sweeper's finder for campaign batches (registered in CampaignsConfig.ready)."""
    from campaigns.engine.batches import enqueue_batch_jobs

    due = due_batches(now)
    enqueue_batch_jobs(due)
    return len(due)


def running_campaigns_finish() -> int:
    return sum(
        finish_if_done(campaign_id)
        for campaign_id in Campaign.all_tenants.filter(status=Status.RUNNING).values_list("pk", flat=True)
    )
