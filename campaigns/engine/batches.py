"""Batch jobs in and out: enqueueing, the batch's stream through the one send path, completion."""

from __future__ import annotations

import logging
from typing import Any

from django.utils import timezone

from campaigns.engine.source import CampaignSource, batch_keys
from campaigns.engine.writes import pause_campaign
from campaigns.models import Campaign, CampaignMessage
from campaigns.status import campaigns_status_update
from whatsapp.selectors import phone_sending_problem
from whatsapp.sending import chain

logger = logging.getLogger(__name__)

State = CampaignMessage.State
Status = Campaign.Status
CAMPAIGNS_QUEUE = "campaigns"


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
    """After commit, a `send_batch` job per (tenant, campaign, batch), each marked as waiting in the
    queue so the sweeper does not add another while it waits (large campaigns queue many)."""
    from campaigns.jobs import send_batch

    chain.mark_and_enqueue(
        CAMPAIGNS_QUEUE,
        [
            (
                batch_keys(campaign_id, batch)[1],
                send_batch,
                {"tenant_id": tenant_id, "campaign_id": campaign_id, "batch": batch},
            )
            for tenant_id, campaign_id, batch in jobs
        ],
        force=True,
    )


def batch_lock_key(campaign_id: int, batch: int) -> str:
    return batch_keys(campaign_id, batch)[0]


def batch_is_running(campaign_id: int, batch: int) -> bool:
    """A job holds the batch, or one waits for it in the queue."""
    return chain.is_running(batch_keys(campaign_id, batch))


def send_batch(campaign_id: int, batch: int) -> dict[str, Any]:
    """Sends what the batch may send now. Inside the tenant's context (campaigns.jobs.send_batch)."""
    campaign = (
        Campaign.objects.select_related("phone_number__account", "phone_number__tenant", "tenant")
        .filter(pk=campaign_id)
        .first()
    )
    if campaign is None or campaign.status != Status.RUNNING:
        return {"result": f"campaign {campaign.status if campaign else 'gone'}"}
    problem = phone_sending_problem(campaign.phone_number_id)  # before its missing token is the reason
    if problem:
        pause_campaign(campaign_id, problem)
        return {"result": "paused", "reason": problem}
    result = chain.stream(CampaignSource(campaign, batch), campaign.phone_number, queue_name=CAMPAIGNS_QUEUE)
    if result.get("result") == "stopped" and result.get("reason"):
        return {**result, "result": "paused"}
    return result


def finish_if_done(campaign_id: int) -> bool:
    """Completed when nothing is queued or in flight (`unknown` ones are settled by statuses later)."""
    now = timezone.now()
    in_flight = CampaignMessage.objects.filter(campaign_id=campaign_id, state__in=(State.QUEUED, State.SENDING))
    changed = campaigns_status_update(
        Campaign.objects.filter(pk=campaign_id, status=Status.RUNNING).exclude(pk__in=in_flight.values("campaign_id")),
        to=Status.COMPLETED,
        reason="",
        now=now,
    )
    return bool(changed)
