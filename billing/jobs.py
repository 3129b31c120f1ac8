"""RQ entry points of billing (thin)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from aerostic.core.errors import Conflict
from aerostic.core.jobs import tenant_job
from billing.models import BillingProfile
from campaigns.models import Campaign
from campaigns.services import campaign_pause


@tenant_job
def pause_for_balance(*, tenant_id: int) -> dict[str, Any]:
    """A prepaid balance went below its credit limit: running and scheduled campaigns pause with the
    reason (campaigns' own service, audited). Nothing happens if credit came in meanwhile or the
    platform turned enforcement off. Resuming is left to a person once the balance is topped up."""
    profile = BillingProfile.objects.filter(tenant_id=tenant_id).first()
    if profile is None or not profile.is_below_limit or not settings.BILLING_ENFORCE_BALANCE:
        return {"paused": 0}
    reason = "The prepaid balance is below its credit limit: add credit, then resume."
    paused = 0
    for campaign in Campaign.objects.filter(status__in=(Campaign.Status.RUNNING, Campaign.Status.SCHEDULED)):
        try:
            campaign_pause(campaign=campaign, actor=None, reason=reason)
        except Conflict:  # finished or paused a moment ago
            continue
        paused += 1
    return {"paused": paused}
