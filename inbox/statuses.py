"""Statuses of the business's messages (sent, delivered, read, failed, deleted), each kept once per
(wamid, status) and folded into its message monotonically: a late `delivered` never overwrites
`read`, and a status that arrives before its message waits for it. A 131047 failure closes the
service window."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aerostic.core.sqlrows import bound_cursor, json_rows
from aerostic.core.tenant_context import require_tenant_id
from aerostic.core.values import error_codes
from contacts.phones import customer_index
from inbox import changes
from inbox.conversations import close_window
from inbox.models import Message, MessageKey, MessageStatusEvent
from inbox.rows import when

# A message's status only moves forward along this order (failed, deleted and received aside).
# campaigns.engine.statuses._STATUS_ORDER is the same order for a campaign's recipient rows but
# leaves out queued and sending on purpose: those states are the send ledger's (claim, settle),
# and a status webhook moves a recipient row only from sent on. Stored messages are never queued
# or sending, so the two orders decide the same for every status Meta sends.
STATUS_RANK = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "read": 4}
TIMESTAMP_FIELD = {"sent": "sent_at", "delivered": "delivered_at", "read": "read_at", "failed": "failed_at"}


# Meta's "re-engagement message" error: more than 24 hours since the customer last wrote.
WINDOW_CLOSED_ERROR = 131047


def status_record(*, status: dict[str, Any]) -> str:
    """Keep the status once (wamid, status); apply it to its message if we have it, else later."""
    return status_record_many(statuses=[status])[0]


def apply_waiting_statuses_many(messages: list[Message]) -> None:
    """The statuses that arrived before these messages (not inserted yet: their objects take them,
    the caller inserts them) applied and marked so; a single message is a list of one."""
    waiting: dict[str, list[MessageStatusEvent]] = defaultdict(list)
    for event in MessageStatusEvent.objects.filter(
        wamid__in=[message.wamid for message in messages], applied=False
    ).order_by("pk"):
        waiting[event.wamid].append(event)
    if not waiting:
        return
    for message in messages:
        if message.wamid in waiting:
            _apply_to(message, waiting[message.wamid])
    MessageStatusEvent.objects.filter(pk__in=[event.pk for events in waiting.values() for event in events]).update(
        applied=True
    )


def _apply_to(message: Message, events: list[Any]) -> set[str]:
    """The events' effect on the object (the row is the caller's to write; only a closed service
    window is written here): the fields that changed."""
    changed: set[str] = set()
    for event in events:
        field = TIMESTAMP_FIELD.get(event.status)
        if field and getattr(message, field) is None:
            setattr(message, field, event.occurred_at)
            changed.add(field)
        if event.status == "failed":
            if message.status not in ("delivered", "read"):
                message.status = Message.Status.FAILED
                changed.add("status")
            errors = event.errors or []
            if errors and isinstance(errors[0], dict):
                message.error_code = errors[0].get("code")
                message.error_title = str(errors[0].get("title", ""))[:255]
                changed.update({"error_code", "error_title"})
            if WINDOW_CLOSED_ERROR in error_codes(errors):
                close_window(message.conversation_id, event.occurred_at)
        elif event.status == "deleted":
            message.status = Message.Status.DELETED
            changed.add("status")
        elif STATUS_RANK.get(event.status, -1) > STATUS_RANK.get(message.status, -1) and message.status not in (
            "failed",
            "deleted",
            "received",
        ):
            message.status = event.status
            changed.add("status")
        if event.pricing and not message.pricing:
            message.pricing = event.pricing
            message.pricing_category = str(event.pricing.get("category", ""))[:32]
            changed.update({"pricing", "pricing_category"})
    return changed


# --- statuses in bulk: what the webhook drainer calls for every status of a batch ---------------

# Each status once: a (wamid, status) already kept is a re-delivery and comes back with no row.
_KEEP_STATUSES = (
    "INSERT INTO inbox_messagestatusevent"
    " (tenant_id, wamid, status, occurred_at, recipient_index, errors, pricing, conversation_info, applied,"
    " received_at)"
    " SELECT %s, s.wamid, s.status, s.occurred_at, s.recipient_index, s.errors, s.pricing, s.conversation_info,"
    " s.applied, now()"
    " FROM jsonb_to_recordset(%s::jsonb) AS s(wamid varchar, status varchar, occurred_at timestamptz,"
    " recipient_index varchar, errors jsonb, pricing jsonb, conversation_info jsonb, applied boolean)"
    " ON CONFLICT (wamid, status) DO NOTHING"
    " RETURNING id, wamid, status"
)

# The message columns a status may change (with their types), written back in one statement for
# every changed row.
_STATUS_COLUMNS = {
    "status": "varchar",
    "sent_at": "timestamptz",
    "delivered_at": "timestamptz",
    "read_at": "timestamptz",
    "failed_at": "timestamptz",
    "error_code": "integer",
    "error_title": "varchar",
    "pricing": "jsonb",
    "pricing_category": "varchar",
}
# Identifiers come from this module; every value is bound.
_WRITE_MESSAGES = (
    f"UPDATE inbox_message AS m SET {', '.join(f'{column} = v.{column}' for column in _STATUS_COLUMNS)}"  # noqa: S608
    " FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, created_at timestamptz,"
    f" {', '.join(f'{column} {kind}' for column, kind in _STATUS_COLUMNS.items())})"
    " WHERE m.id = v.id AND m.created_at = v.created_at"
)


def status_record_many(*, statuses: list[dict[str, Any]]) -> list[str]:
    """`status_record` for many statuses (Meta's objects, in the order they arrived), in a constant
    number of statements: one read finds the statuses' messages and locks them (in id order, so two
    drainers holding statuses of the same messages neither overwrite each other nor deadlock), one
    INSERT keeps the new statuses (ON CONFLICT skips re-deliveries; `applied` already set for those
    whose message exists, so no row is written twice), the new ones are folded into each message
    in order (the rules of `_apply_to`: the outcome a status-by-status application gives) and one
    UPDATE writes the changed messages. Returns one outcome per status: "applied", "waiting" (its
    message is not stored yet), "duplicate" or "ignored" (no wamid or no status). Runs in the
    tenant's context."""
    tenant_id = require_tenant_id()
    outcomes = ["ignored"] * len(statuses)
    first: dict[tuple[str, str], int] = {}
    for position, status in enumerate(statuses):
        key = (str(status.get("id") or ""), str(status.get("status") or ""))
        if not key[0] or not key[1]:
            continue
        if key in first:
            outcomes[position] = "duplicate"
        else:
            first[key] = position
    if not first:
        return outcomes
    messages = _messages_locked({wamid for wamid, _ in first})
    kept = _keep_statuses(tenant_id, [statuses[position] for position in first.values()], stored=set(messages))
    for key, position in first.items():
        outcomes[position] = ("applied" if key[0] in messages else "waiting") if key in kept else "duplicate"
    by_wamid: dict[str, list[Any]] = defaultdict(list)
    for event in kept.values():
        if event.applied:
            by_wamid[event.wamid].append(event)
    changed = [messages[wamid] for wamid, events in by_wamid.items() if _apply_to(messages[wamid], events)]
    if changed:
        _write_status_columns(changed)
        changes.conversations_changed(tenant_id, {message.conversation_id for message in changed})
    return outcomes


def _messages_locked(wamids: set[str]) -> dict[str, Message]:
    """The stored messages of these wamids, locked for the batch's transaction."""
    keys = dict(MessageKey.objects.filter(wamid__in=list(wamids)).values_list("message_id", "created_at"))
    if not keys:
        return {}
    # A range, not the list of times: the partitions are pruned by it, and planning a long IN
    # list against every partition cost more than the read.
    messages = (
        Message.objects.filter(pk__in=list(keys), created_at__range=(min(keys.values()), max(keys.values())))
        .order_by("pk")
        .select_for_update(of=("self",))
        # What a status reads and writes: the payload (a JSON document per row) is never needed.
        .only("wamid", "conversation_id", "created_at", *_STATUS_COLUMNS)
    )
    return {message.wamid: message for message in messages if keys.get(message.pk) == message.created_at}


@dataclass
class _KeptStatus:
    """A status as `_apply_to` reads it (a model object per status cost more than its INSERT)."""

    wamid: str
    status: str
    occurred_at: datetime
    recipient_index: str
    errors: Any
    pricing: Any
    conversation_info: Any
    applied: bool
    pk: int | None = None


def _keep_statuses(tenant_id: int, statuses: list[dict[str, Any]], *, stored: set[str]) -> dict[tuple[str, str], Any]:
    """The statuses that are new, carrying their new ids; those of a stored message are kept as
    applied (the caller applies them in the same transaction)."""
    indexes: dict[tuple[Any, Any], str] = {}  # a message's statuses name one recipient
    events = []
    for status in statuses:
        recipient = (status.get("recipient_id"), status.get("recipient_user_id"))
        if recipient not in indexes:
            indexes[recipient] = customer_index(tenant=tenant_id, wa_id=recipient[0], user_id=recipient[1])
        wamid = str(status.get("id") or "")
        events.append(
            _KeptStatus(
                wamid=wamid,
                status=str(status.get("status") or ""),
                occurred_at=when(status.get("timestamp")),
                recipient_index=indexes[recipient],
                errors=status.get("errors") or [],
                pricing=status.get("pricing") or {},
                conversation_info=status.get("conversation") or {},
                applied=wamid in stored,
            )
        )
    rows = json_rows(
        {
            "wamid": event.wamid[:255],
            "status": event.status[:12],
            "occurred_at": event.occurred_at,
            "recipient_index": event.recipient_index,
            "errors": event.errors,
            "pricing": event.pricing,
            "conversation_info": event.conversation_info,
            "applied": event.applied,
        }
        for event in events
    )
    with bound_cursor() as cursor:
        cursor.execute(_KEEP_STATUSES, [tenant_id, rows])
        new_ids = {(wamid, status): event_id for event_id, wamid, status in cursor.fetchall()}
    kept: dict[tuple[str, str], _KeptStatus] = {}
    for event in events:
        event_id = new_ids.get((event.wamid[:255], event.status[:12]))
        if event_id is not None:
            event.pk = event_id
            kept[(event.wamid, event.status)] = event
    return kept


def _write_status_columns(messages: list[Message]) -> None:
    rows = json_rows(
        {
            "id": message.pk,
            "created_at": message.created_at,
            **{column: getattr(message, column) for column in _STATUS_COLUMNS},
        }
        for message in messages
    )
    with bound_cursor() as cursor:
        cursor.execute(_WRITE_MESSAGES, [rows])
