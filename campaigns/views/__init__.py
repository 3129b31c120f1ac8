"""Portal pages for campaigns: the list, the draft (new, edit, variable mapping), review and launch,
a campaign's page with live statistics and its controls, the recipients and their CSV export.
Thin: forms in, services out, selectors to read."""

from campaigns.views.drafts import (
    CampaignCreateView,
    CampaignDeleteView,
    CampaignEditView,
    CampaignListView,
    CampaignMappingView,
)
from campaigns.views.launch import (
    CampaignActionView,
    CampaignDetailView,
    CampaignLaunchView,
    CampaignReviewView,
    CampaignStatsView,
)
from campaigns.views.recipients import CampaignRecipientsExportView, CampaignRecipientsView

__all__ = [
    "CampaignActionView",
    "CampaignCreateView",
    "CampaignDeleteView",
    "CampaignDetailView",
    "CampaignEditView",
    "CampaignLaunchView",
    "CampaignListView",
    "CampaignMappingView",
    "CampaignRecipientsExportView",
    "CampaignRecipientsView",
    "CampaignReviewView",
    "CampaignStatsView",
]
