"""Writes of campaigns (a package: each module stays short). Import from here:

    from campaigns.services import campaign_create, campaign_launch, ...

- drafts: `campaign_create`, `campaign_update`, `campaign_delete`;
- launch: `audience_contacts`, `launch_check`, `audience_by_country`, `campaign_launch`;
- transitions: `campaign_pause`, `campaign_resume`, `campaign_cancel`, and the pauses that follow a
  stopped template or number (`campaigns_pause_for_template`, `campaigns_pause_for_number`).

Every change a person makes is audited; the batch engine lives in campaigns/engine/.
"""

from campaigns.services.drafts import (
    LABELS,
    MAX_NAME,
    MAX_VARIANTS,
    VariantInput,
    campaign_create,
    campaign_delete,
    campaign_update,
)
from campaigns.services.launch import (
    LaunchCheck,
    audience_by_country,
    audience_contacts,
    campaign_launch,
    launch_check,
)
from campaigns.services.transitions import (
    campaign_cancel,
    campaign_pause,
    campaign_resume,
    campaigns_pause_for_number,
    campaigns_pause_for_template,
)

__all__ = [
    "LABELS",
    "MAX_NAME",
    "MAX_VARIANTS",
    "LaunchCheck",
    "VariantInput",
    "audience_by_country",
    "audience_contacts",
    "campaign_cancel",
    "campaign_create",
    "campaign_delete",
    "campaign_launch",
    "campaign_pause",
    "campaign_resume",
    "campaign_update",
    "campaigns_pause_for_number",
    "campaigns_pause_for_template",
    "launch_check",
]
