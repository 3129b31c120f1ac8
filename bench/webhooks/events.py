"""What a stage of bench.webhooks left: its webhook events as processing finishes them, and the
checks for anything lost or duplicated in what the database holds."""

from __future__ import annotations

import re
import time

from bench.loadgen import wamid

POLL_SECONDS = 0.25


def newest_event_id() -> int:
    """Taken before a stage: the stage's events are the ones stored after it (bodies are encrypted,
    so no query can pick them out by their wamids)."""
    from django.db import connection

    from aerostic.core.tenant_context import platform_context

    with platform_context("benchmark counts"), connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM whatsapp_webhookevent")
        return cursor.fetchone()[0]


def statuses(after_id: int) -> dict:
    """The stage's events by status (cheap enough to poll while the queue drains)."""
    from django.db import connection

    from aerostic.core.tenant_context import platform_context

    with platform_context("benchmark counts"), connection.cursor() as cursor:
        cursor.execute("SELECT status, count(*) FROM whatsapp_webhookevent WHERE id > %s GROUP BY status", [after_id])
        return dict(cursor.fetchall())


def finished(after_id: int) -> tuple[int, float | None, int, int]:
    """How many of the stage's events processing finished, the last one's `processed_at` (seconds
    since the epoch; None when no finished event has one), how many took more than one attempt
    (a failed batch processes its events one by one; one that fails alone waits for its retry) and
    how many finished more than 5 s after they were stored (one of those sets the drain time)."""
    from django.db import connection

    from aerostic.core.tenant_context import platform_context

    with platform_context("benchmark counts"), connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), extract(epoch FROM max(processed_at)), count(*) FILTER (WHERE attempts > 1),"
            " count(*) FILTER (WHERE processed_at > received_at + interval '5 seconds')"
            " FROM whatsapp_webhookevent WHERE id > %s AND status IN ('processed', 'ignored')",
            [after_id],
        )
        count, last, retried, late = cursor.fetchone()
    return count, (float(last) if last is not None else None), retried, late


def stage_bodies(after_id: int) -> list[str]:
    """The stage's stored bodies, decrypted once after the drain."""
    from aerostic.core.tenant_context import platform_context
    from whatsapp.models import WebhookEvent

    with platform_context("benchmark counts"):
        return [
            body.reveal() for body in WebhookEvent.all_tenants.filter(pk__gt=after_id).values_list("body", flat=True)
        ]


def wait_until_processed(after_id: int, expected: int, timeout: float) -> float | None:
    """Polls until at least `expected` events are stored and none is pending or processing; the
    wall-clock time it saw that, or None after `timeout` seconds."""
    start = time.monotonic()
    while time.monotonic() - start <= timeout:
        by_status = statuses(after_id)
        if by_status.get("pending", 0) + by_status.get("processing", 0) == 0 and sum(by_status.values()) >= expected:
            return time.time()
        time.sleep(POLL_SECONDS)
    return None


# --- what the stage left


def inbound_check(tag: str, after_id: int, acked: list[int]) -> dict[str, int]:
    """Lost: acknowledged requests whose event or message is missing; duplicated: events stored
    twice and messages beyond one per wamid."""
    from django.db.models import Count

    from aerostic.core.tenant_context import platform_context
    from inbox.models import Message

    pattern = re.compile(rf"{re.escape(wamid(tag, 0)[:-1])}([0-9]+)")
    bodies = stage_bodies(after_id)
    events = {int(match.group(1)) for body in bodies if (match := pattern.search(body))}
    with platform_context("benchmark counts"):
        rows = (
            Message.all_tenants.filter(wamid__startswith=wamid(tag, 0)[:-1])
            .values_list("wamid")
            .annotate(n=Count("id"))
        )
        messages = {int(key.rsplit(".", 1)[1]): n for key, n in rows}
    lost = sum(1 for index in set(acked) if index not in events or index not in messages)
    duplicated = len(bodies) - len(set(bodies)) + sum(n - 1 for n in messages.values())
    return {"lost": lost, "duplicated": duplicated}
