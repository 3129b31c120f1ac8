"""Campaign holds and pauses (a recipient's state is written by whatsapp/sending/ledger.py)."""

from __future__ import annotations

import logging

from django.utils import timezone

from aerostic.core import audit
from campaigns.models import Campaign, CampaignMessage
from campaigns.status import campaigns_status_update

logger = logging.getLogger(__name__)

State = CampaignMessage.State
Status = Campaign.Status


def note_hold(campaign_id: int, reason: str) -> None:
    Campaign.objects.filter(pk=campaign_id, status=Status.RUNNING).exclude(status_reason=reason[:255]).update(
        status_reason=reason[:255], updated_at=timezone.now()
    )


def pause_campaign(campaign_id: int, reason: str) -> None:
    changed = campaigns_status_update(
        Campaign.objects.filter(pk=campaign_id, status__in=(Status.RUNNING, Status.SCHEDULED)),
        to=Status.PAUSED,
        reason=reason,
    )
    if changed:
        campaign = Campaign.objects.get(pk=campaign_id)
        audit.record("campaign.pause", tenant=campaign.tenant_id, target=campaign, metadata={"reason": reason[:255]})
