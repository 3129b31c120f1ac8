"""Bulk writes of a chunk's outcomes (one statement per kind), and campaign holds and pauses."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from campaigns.models import Campaign, CampaignMessage

logger = logging.getLogger(__name__)

State = CampaignMessage.State
Status = Campaign.Status


def plus_one() -> Any:
    from django.db.models import F

    return F("attempts") + 1


def _values(rows: list[tuple], types: list[str]) -> tuple[str, list[Any]]:
    row_sql = "(" + ", ".join(f"%s::{kind}" for kind in types) + ")"
    return ", ".join([row_sql] * len(rows)), [value for row in rows for value in row]


def write_sent(rows: list[tuple[int, str]], now: datetime) -> None:
    values, params = _values(rows, ["bigint", "text"])
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE campaigns_campaignmessage m
            SET state = 'sent', wamid = v.wamid, sent_at = %s, error_code = NULL, error_detail = '', updated_at = %s
            FROM (VALUES {values}) AS v(id, wamid)
            WHERE m.id = v.id AND m.state = 'sending'
            """,  # noqa: S608
            [now, now, *params],
        )


def write_outcomes(rows: list[tuple[int, str, datetime | None, int | None, str]], now: datetime) -> None:
    """Failures: retries back to `queued` at their time, `unknown`, `failed` (with failed_at)."""
    if not rows:
        return
    values, params = _values(
        [(row_id, state, at, code, detail[:500]) for row_id, state, at, code, detail in rows],
        ["bigint", "text", "timestamptz", "integer", "text"],
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE campaigns_campaignmessage m
            SET state = v.state, next_attempt_at = v.at, error_code = v.code,
                error_detail = v.detail,
                hold_reason = CASE WHEN v.state = 'queued' THEN left('Retrying after: ' || v.detail, 255) ELSE '' END,
                failed_at = CASE WHEN v.state = 'failed' THEN %s ELSE NULL END, updated_at = %s
            FROM (VALUES {values}) AS v(id, state, at, code, detail)
            WHERE m.id = v.id AND m.state = 'sending'
            """,  # noqa: S608
            [now, now, *params],
        )


def write_skipped(rows: list[tuple[int, str]], now: datetime) -> None:
    if not rows:
        return
    values, params = _values([(row_id, reason[:500]) for row_id, reason in rows], ["bigint", "text"])
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE campaigns_campaignmessage m SET state = 'skipped', error_detail = v.reason, hold_reason = '',
                next_attempt_at = NULL, updated_at = %s
            FROM (VALUES {values}) AS v(id, reason)
            WHERE m.id = v.id AND m.state = 'queued'
            """,  # noqa: S608
            [now, *params],
        )


def write_held(rows: list[tuple[int, datetime, str]], now: datetime) -> None:
    if not rows:
        return
    values, params = _values(
        [(row_id, at, reason[:255]) for row_id, at, reason in rows], ["bigint", "timestamptz", "text"]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE campaigns_campaignmessage m SET next_attempt_at = v.at, hold_reason = v.reason, updated_at = %s
            FROM (VALUES {values}) AS v(id, at, reason)
            WHERE m.id = v.id AND m.state = 'queued'
            """,  # noqa: S608
            [now, *params],
        )


def note_hold(campaign_id: int, reason: str) -> None:
    Campaign.objects.filter(pk=campaign_id, status=Status.RUNNING).exclude(status_reason=reason[:255]).update(
        status_reason=reason[:255], updated_at=timezone.now()
    )


def pause_campaign(campaign_id: int, reason: str) -> None:
    from aerostic.core import audit

    changed = Campaign.objects.filter(pk=campaign_id, status__in=(Status.RUNNING, Status.SCHEDULED)).update(
        status=Status.PAUSED, status_reason=reason[:255], updated_at=timezone.now()
    )
    if changed:
        campaign = Campaign.objects.get(pk=campaign_id)
        audit.record("campaign.pause", tenant=campaign.tenant_id, target=campaign, metadata={"reason": reason[:255]})
