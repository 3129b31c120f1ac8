"""What campaigns keep of a person, for compliance's GDPR erase (registered in CampaignsConfig.ready).

A recipient row holds no number and no rendered values (both are read from the contact when the
message is sent); what can quote the person is Meta's own wording of a failure. The row, its
state, code and timestamps stay: campaign statistics still add up.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Value

from campaigns.models import CampaignMessage
from whatsapp.personal_data import explained_error_detail


def campaign_messages_erase(*, person: Any) -> int:
    """Meta's failure texts on the erased contact's recipient rows become our explanation of the
    code. Returns how many rows changed."""
    return CampaignMessage.objects.filter(contact_id=person.contact_id, error_code__isnull=False).update(
        error_detail=explained_error_detail(), hold_reason=Value("")
    )
