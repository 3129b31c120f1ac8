"""Statuses from Meta's webhooks applied to campaign recipients."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.utils import timezone

from campaigns.engine.constants import CALLBACK_PREFIX
from campaigns.models import Campaign, CampaignMessage
from whatsapp.sending.failures import EXPLANATIONS

logger = logging.getLogger(__name__)

State = CampaignMessage.State
Status = Campaign.Status

_STATUS_ORDER = {"sent": 1, "delivered": 2, "read": 3}
_TIMESTAMP = {"sent": "sent_at", "delivered": "delivered_at", "read": "read_at", "failed": "failed_at"}


def campaign_status_apply(*, status: dict[str, Any]) -> bool:
    """A status webhook for a campaign message (found by `biz_opaque_callback_data`, else by wamid):
    moves it forward (sent → delivered → read, or failed). An `unknown` or `sending` one is settled
    first by the send path (`whatsapp.sending.ledger.status_settle`, called before this). A status
    never moves a message back (Meta may deliver them out of order or twice)."""
    name = str(status.get("status") or "")
    if name not in _TIMESTAMP:
        return False
    data = str(status.get("biz_opaque_callback_data") or "")
    key = data[len(CALLBACK_PREFIX) :] if data.startswith(CALLBACK_PREFIX) else ""
    wamid = str(status.get("id") or "")
    if key.isdigit():
        rows = CampaignMessage.objects.filter(pk=int(key))
    elif wamid:
        rows = CampaignMessage.objects.filter(wamid=wamid)
    else:
        return False
    at = _when(status.get("timestamp"))
    if name == "failed":
        errors = [e for e in status.get("errors") or [] if isinstance(e, dict)]
        code = errors[0].get("code") if errors else None
        code = code if isinstance(code, int) else None
        detail = (
            EXPLANATIONS.get(code or 0) or (str(errors[0].get("title") or "") if errors else "") or "Meta failed it."
        )
        changed = rows.filter(state__in=(State.SENT, State.DELIVERED)).update(
            state=State.FAILED, failed_at=at, error_code=code, error_detail=detail[:500], updated_at=timezone.now()
        )
        if changed and wamid:
            rows.filter(wamid="").update(wamid=wamid)
        return bool(changed)
    earlier = [state for state, rank in _STATUS_ORDER.items() if rank < _STATUS_ORDER[name]]
    movable = earlier
    updates: dict[str, Any] = {"state": name, _TIMESTAMP[name]: at, "updated_at": timezone.now()}
    changed = rows.filter(state__in=movable).update(**updates)
    if changed and wamid:
        rows.filter(wamid="").update(wamid=wamid)
        rows.filter(sent_at__isnull=True).update(sent_at=at)
    # A later status may already have moved it on: still record when this one happened.
    rows.filter(**{f"{_TIMESTAMP[name]}__isnull": True}).exclude(state__in=(State.QUEUED, State.FAILED)).update(
        **{_TIMESTAMP[name]: at}
    )
    return bool(changed)


def _when(unix: Any) -> datetime:
    from datetime import UTC

    try:
        return datetime.fromtimestamp(int(unix), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return timezone.now()
