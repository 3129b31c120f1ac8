"""What the campaign pages share: the campaign lookup (404 for another tenant's), the workspace's
time zone, badge kinds, the cost estimate and percentage display."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest

from aerostic.core.money import format_money
from campaigns import selectors
from campaigns.models import Campaign, CampaignMessage
from tenants.portal_base import PortalView, workspace_zone

Status = Campaign.Status
STATUS_KIND = {
    Status.DRAFT: "neutral",
    Status.SCHEDULED: "info",
    Status.RUNNING: "info",
    Status.PAUSED: "warning",
    Status.COMPLETED: "success",
    Status.CANCELLED: "neutral",
    Status.FAILED: "danger",
}
STATE_KIND = {
    CampaignMessage.State.SENT: "info",
    CampaignMessage.State.DELIVERED: "success",
    CampaignMessage.State.READ: "success",
    CampaignMessage.State.FAILED: "danger",
    CampaignMessage.State.SKIPPED: "warning",
    CampaignMessage.State.UNKNOWN: "warning",
}
LIVE = (Status.SCHEDULED, Status.RUNNING, Status.PAUSED)


def percent(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None


def estimate_view(estimate: dict[str, Any]) -> dict[str, Any]:
    """The cost estimate as the pages show it: the amount (billing's micro-units),
    what could not be priced and the assumptions — or why there is no amount."""
    if not estimate:
        return {"known": False, "text": "No estimate was made."}
    currency = estimate.get("currency", "")
    if estimate.get("status") == "unknown":
        text = None
    elif estimate.get("total_micros") is not None:
        text = format_money(int(estimate["total_micros"]), currency)
    else:
        text = None
    if text is None:
        return {"known": False, "text": estimate.get("reason") or "The cost cannot be estimated yet."}
    unpriced = [
        f"{row.get('recipients', 0)} in {row.get('country') or 'an unknown country'}: {row.get('reason', '')}"
        for row in estimate.get("unpriced") or []
        if isinstance(row, dict)
    ]
    return {"known": True, "text": text, "unpriced": unpriced, "assumptions": list(estimate.get("assumptions") or [])}


class CampaignPage(PortalView):
    """A page about one campaign: fetched through the selector, so another tenant's id is a 404."""

    def get_campaign(self) -> Campaign:
        return self.scoped_get(selectors.campaign_get, self.kwargs["campaign_id"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["zone"] = workspace_zone(self.request)
        return context


def flash_problems(request: HttpRequest, problems: dict[str, str] | None, fallback: str) -> None:
    for problem in (problems or {}).values() or [fallback]:
        messages.error(request, problem)
