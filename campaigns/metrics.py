"""What /metrics samples of campaigns at scrape time (registered by CampaignsConfig.ready):
campaigns by status, and for the running ones their recipients and those still waiting to go."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Sum
from prometheus_client.core import GaugeMetricFamily, Metric

from aerostic.core.tenant_context import platform_context
from campaigns.models import Campaign, CampaignMessage

_WAITING = (CampaignMessage.State.QUEUED, CampaignMessage.State.SENDING)


def campaign_progress() -> Iterator[Metric]:
    by_status = GaugeMetricFamily(
        "aerostic_campaigns", "Campaigns by status (finished ones excluded)", labels=["status"]
    )
    recipients = GaugeMetricFamily("aerostic_campaign_recipients", "Recipients of running campaigns")
    waiting = GaugeMetricFamily(
        "aerostic_campaign_recipients_waiting", "Recipients of running campaigns not sent yet (queued or sending)"
    )
    live = (Campaign.Status.SCHEDULED, Campaign.Status.RUNNING, Campaign.Status.PAUSED)
    with platform_context("metrics"):
        counts = {
            row["status"]: row["n"]
            for row in Campaign.all_tenants.filter(status__in=live).values("status").annotate(n=Count("id"))
        }
        running = Campaign.all_tenants.filter(status=Campaign.Status.RUNNING)
        total = running.aggregate(total=Sum("recipients_total"))["total"] or 0
        left = CampaignMessage.all_tenants.filter(campaign__in=running, state__in=_WAITING).count()
    for status in live:
        by_status.add_metric([status], counts.get(status, 0))
    recipients.add_metric([], total)
    waiting.add_metric([], left)
    yield from (by_status, recipients, waiting)
