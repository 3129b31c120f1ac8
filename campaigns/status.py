"""The one writer of `Campaign.status` (issue 17): every move of a campaign between draft,
scheduled, running, paused, completed, cancelled goes through here, so the reason and the finish
time are written the same way everywhere.

Two shapes, one rule each: a person's action on a row they locked (`campaign_status_save`: a
model save, so django-auditlog records the change) and a guarded bulk move (`campaigns_status_update`:
one conditional UPDATE whose filter is the transition's guard; the caller counts what moved).
The guards (which statuses may move where) and the audit events stay with each caller.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from campaigns.models import Campaign

Status = Campaign.Status
FINAL = (Status.COMPLETED, Status.CANCELLED, Status.FAILED)


def campaign_status_save(
    campaign: Campaign, *, to: str, reason: str = "", update_fields: list[str] | None = None
) -> Campaign:
    """Moves a campaign the caller locked (select_for_update) to `to` with its reason; a final state
    also stamps `finished_at`. `update_fields` are the other fields the caller changed (None: save
    every field)."""
    campaign.status, campaign.status_reason = to, reason[:255]
    written = ["status", "status_reason", *(update_fields or ()), "updated_at"]
    if to in FINAL:
        campaign.finished_at = timezone.now()
        written.append("finished_at")
    campaign.save(update_fields=None if update_fields is None else written)
    return campaign


def campaigns_status_update(
    rows: QuerySet[Campaign], *, to: str, reason: str | None = None, now: datetime | None = None, **values: Any
) -> int:
    """Moves the campaigns still matching `rows` (filtered by the transition's guard) to `to` in one
    UPDATE and returns how many moved. `reason` None leaves `status_reason` as it is; a final state
    stamps `finished_at`; `values` are other columns the move sets (e.g. `started_at`)."""
    now = now or timezone.now()
    changes: dict[str, Any] = {"status": to, "updated_at": now, **values}
    if reason is not None:
        changes["status_reason"] = reason[:255]
    if to in FINAL:
        changes.setdefault("finished_at", now)
    return rows.update(**changes)
