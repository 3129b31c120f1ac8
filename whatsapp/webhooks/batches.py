"""Processing stored webhook events in batches: exactly once, each batch in one transaction, and a
bad event never holding the others back.

A drainer (webhooks/ready.py) hands over up to `WEBHOOK_BATCH_SIZE` event ids at a time:
1. one statement takes a session advisory lock per event (a second drainer holding the same id —
   the sweeper re-pushed it, a replay — skips it while the first works on it; the locks die with
   the connection, so a killed drainer leaves its events to the sweeper);
2. one statement claims them (`processing`, attempt counted, committed at once: an event that
   kills its worker every time still ends dead after `MAX_ATTEMPTS`) and returns their sealed
   bodies;
3. the bodies are opened and parsed; one that cannot be is processed alone (and ends dead with the
   reason, as it would have alone);
4. one transaction processes the rest together (`processing.process_payloads`: per kind a few
   set-based statements) and marks them processed or ignored with one UPDATE;
5. if that transaction fails, nothing of it stays, and each event is processed alone, in its own
   transaction, with its own retries and dead letter: a poison event in a batch of 500 leaves 499
   processed and itself retried. A database that is down fails the single attempts too; the
   events stay `processing` and the sweeper hands them back once it is up.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from aerostic.core import queues
from aerostic.core.fields import SealedValue
from aerostic.core.sqlrows import bound_cursor, json_rows
from aerostic.core.tenant_context import platform_context
from whatsapp.models import WebhookEvent
from whatsapp.webhooks.processing import process_payloads

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRY_DELAYS_SECONDS = [10, 60]
LOCK_NAMESPACE = 1 << 40  # keeps these advisory-lock keys apart from any other use

_LOCK = "SELECT id FROM unnest(%s::bigint[]) AS t(id) WHERE pg_try_advisory_lock(%s + id)"
_UNLOCK = "SELECT pg_advisory_unlock(%s + id) FROM unnest(%s::bigint[]) AS t(id)"
# Claim and read in one round trip (the bodies, still encrypted, are all processing needs).
_CLAIM = (
    "UPDATE whatsapp_webhookevent SET status = 'processing', attempts = attempts + 1"
    " WHERE id = ANY(%s::bigint[]) AND status IN ('pending', 'processing') RETURNING id, body, attempts"
)
_MARK_DONE = (
    "UPDATE whatsapp_webhookevent AS e SET status = v.status, tenant_id = v.tenant_id, outcome = v.outcome,"
    " processed_at = %s, last_error = ''"
    " FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, status varchar, tenant_id bigint, outcome jsonb)"
    " WHERE e.id = v.id"
)


def process_events(event_ids: list[int]) -> dict[str, int]:
    """Processes the given events (those another drainer holds, or already finished, are left
    alone). Returns how many ended in each state."""
    ids = sorted({int(event_id) for event_id in event_ids})
    if not ids:
        return {}
    with platform_context("process webhook events"), _locked(ids) as held:
        events = _claim(held)
        if not events:
            return {}
        return _process_claimed(events)


@contextmanager
def _locked(ids: list[int]) -> Iterator[list[int]]:
    with connection.cursor() as cursor:
        cursor.execute(_LOCK, [ids, LOCK_NAMESPACE])
        held = sorted(row[0] for row in cursor.fetchall())
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute(_UNLOCK, [LOCK_NAMESPACE, held])


def _claim(ids: list[int]) -> list[WebhookEvent]:
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM, [ids])
        rows = sorted(cursor.fetchall())
    context = WebhookEvent._meta.get_field("body").encryption_context
    return [
        WebhookEvent(
            pk=event_id, body=SealedValue(ciphertext, context), attempts=attempts, status=WebhookEvent.Status.PROCESSING
        )
        for event_id, ciphertext, attempts in rows
    ]


def _payload(event: WebhookEvent) -> dict[str, Any]:
    payload = json.loads(event.body.reveal())
    if not isinstance(payload, dict):
        raise ValueError("JSON is not an object")
    return payload


def _process_claimed(events: list[WebhookEvent]) -> dict[str, int]:
    readable: list[tuple[WebhookEvent, dict[str, Any]]] = []
    alone: list[WebhookEvent] = []
    for event in events:
        try:
            readable.append((event, _payload(event)))
        except Exception:  # a body no key opens, or not a JSON object: alone, it ends dead with the reason
            alone.append(event)
    counts: dict[str, int] = {}
    if readable:
        try:
            with transaction.atomic():
                results = process_payloads([payload for _, payload in readable])
                for status in _mark_done([event for event, _ in readable], results):
                    counts[status] = counts.get(status, 0) + 1
        except Exception:
            logger.warning("webhook batch failed: its events are processed one by one", exc_info=True)
            alone.extend(event for event, _ in readable)
            counts = {}
    for event in sorted(alone, key=lambda event: event.pk):
        status = process_alone(event)
        counts[status] = counts.get(status, 0) + 1
    return counts


def _mark_done(events: list[WebhookEvent], results: list[tuple[int | None, list[dict[str, Any]]]]) -> list[str]:
    statuses = []
    for _tenant, outcomes in results:
        handled = any(outcome.get("result") == "processed" for outcome in outcomes)
        statuses.append(WebhookEvent.Status.PROCESSED if handled else WebhookEvent.Status.IGNORED)
    rows = json_rows(
        {"id": event.pk, "status": str(status), "tenant_id": tenant, "outcome": {"changes": outcomes}}
        for event, status, (tenant, outcomes) in zip(events, statuses, results, strict=True)
    )
    with bound_cursor() as cursor:
        cursor.execute(_MARK_DONE, [timezone.now(), rows])
    return [str(status) for status in statuses]


def process_alone(event: WebhookEvent) -> str:
    """One claimed event in its own transaction; on failure retry with backoff, then dead."""
    try:
        with transaction.atomic():
            # Decrypted inside the try: a body no key in the ring opens ends dead with the reason.
            [status] = _mark_done([event], process_payloads([_payload(event)]))
        return status
    except Exception as error:  # any failure: retry later, then dead letter with the reason
        event.last_error = f"{type(error).__name__}: {error}"[:2000]
        dead = event.attempts >= MAX_ATTEMPTS
        event.status = WebhookEvent.Status.DEAD if dead else WebhookEvent.Status.PENDING
        event.save(update_fields=["last_error", "status"])
        if not dead:
            _retry_later(event)
        return event.status


def _retry_later(event: WebhookEvent) -> None:
    from whatsapp.jobs import process_webhook_event

    delay = RETRY_DELAYS_SECONDS[min(event.attempts, len(RETRY_DELAYS_SECONDS)) - 1]
    try:
        queues.get_queue("webhooks").enqueue_in(timedelta(seconds=delay), process_webhook_event, event_id=event.pk)
    except Exception:
        logger.warning("webhook retry not scheduled; the sweeper will", extra={"event_id": event.pk})
