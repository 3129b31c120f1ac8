"""The section campaigns adds to the inbox's contact side panel (inbox.contact_panel, registered in
CampaignsConfig.ready(): the inbox sits below campaigns and never imports it): the contact's last
campaigns, each linked to its page, with what happened to their message and when."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string

from accounts.roles import Perm, role_has_perm
from campaigns import selectors
from campaigns.models import CampaignMessage

SECTION_TITLE = "Campaigns"

State = CampaignMessage.State
OUTCOME_KIND = {
    State.SENT: "info",
    State.DELIVERED: "success",
    State.READ: "success",
    State.FAILED: "danger",
    State.SKIPPED: "warning",
    State.UNKNOWN: "warning",
}


def _when(recipient: CampaignMessage) -> Any:
    return (
        recipient.read_at
        or recipient.delivered_at
        or recipient.failed_at
        or recipient.sent_at
        or recipient.campaign.launched_at
        or recipient.updated_at
    )


def campaign_history_section(request: HttpRequest, contact: Any) -> str | None:
    """The section's HTML, or None for members who may not see campaigns."""
    membership = getattr(request, "membership", None)
    if membership is None or not role_has_perm(membership.role, Perm.CAMPAIGNS_VIEW):
        return None
    rows = [
        {"recipient": recipient, "kind": OUTCOME_KIND.get(State(recipient.state), "neutral"), "at": _when(recipient)}
        for recipient in selectors.contact_campaign_history(contact.pk)
    ]
    return render_to_string("campaigns/inbox_panel_section.html", {"rows": rows})
