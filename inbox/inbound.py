"""Customers' messages to a number (the `messages` webhook), stored in bulk and idempotent under
Meta's re-deliveries: each opens (or extends) the 24-hour service window and links its
conversation to the sender's contact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from aerostic.core.sqlrows import bound_cursor, insert_rows
from aerostic.core.values import digits
from contacts.phones import customer_index
from contacts.services import InboundSender, contacts_for_customers
from inbox import changes
from inbox.ai.intake import messages_arrived
from inbox.conversations import SERVICE_WINDOW, conversations_for_many, refuse_another_tenant
from inbox.models import Conversation, ConversationEvent, Message
from inbox.rows import claim_wamids, new_message, when
from inbox.search_terms import message_pairs, name_pairs, names_forget, search_terms_record
from whatsapp.fanout import InboundItem

if TYPE_CHECKING:
    from whatsapp.models import PhoneNumber


def inbound_store(*, phone: Any, message: dict[str, Any], profile_name: str = "") -> Message | None:
    """A customer's message. Opens (or extends) the 24-hour service window. None for a re-delivery
    (or a message naming no sender at all)."""
    return inbound_store_many(phone=phone, items=[InboundItem(message, profile_name)])[0]


@dataclass
class _Customer:
    """What one call brings to one conversation."""

    wa_id: str  # digits; "" for a user behind a username
    user_id: str
    name: str  # the latest non-empty profile name (the first item's when none is)
    at: datetime | None = None  # the newest message stored
    contact_id: int | None = None
    unread: int = 0  # messages stored that an agent has to read (system notices are not)


def inbound_store_many(*, phone: PhoneNumber, items: list[InboundItem]) -> list[Message | None]:
    """Customers' messages to one number, in order of arrival: the same rows as inbound_store for
    each item in turn, in a constant number of statements per call. The stored messages by
    position; None for a wamid already stored (or repeated earlier in the call), a message without
    a wamid, or one naming no sender.

    Per item, as one call after another: the conversation is created when missing (the customer's
    number, user id and profile name) and takes a newer non-empty profile name even when the message
    is a re-delivery; a stored message moves `last_message_at` forward, and when it is at least as
    new as `last_inbound_at` opens the 24-hour service window from its time; its sender's contact is
    found or created and linked (not for users behind a username, nor for system notices, which
    the customer did not write). The conversation is written by one monotonic UPDATE, so two
    concurrent calls never move it backwards. Runs inside the tenant's context and the caller's
    transaction."""
    refuse_another_tenant(phone)
    customers: dict[str, _Customer] = {}
    indexes: list[str] = []
    for item in items:
        sender, user_id = item.message.get("from", ""), item.message.get("from_user_id", "")
        index = customer_index(tenant=phone.tenant_id, wa_id=sender, user_id=user_id)
        indexes.append(index)
        if not index:
            continue
        name = item.profile_name[:200]
        if index not in customers:
            customers[index] = _Customer(wa_id=digits(sender), user_id=str(user_id or "")[:128], name=name)
        elif name:
            customers[index].name = name
    if not customers:
        return [None] * len(items)
    times = [when(item.message.get("timestamp")) for item in items]
    claims: dict[str, datetime] = {}
    for index, item, at in zip(indexes, items, times, strict=True):
        if index:  # the first item of a wamid claims it, with its time
            claims.setdefault(str(item.message.get("id") or ""), at)
    # Without the caller's transaction, a claimed wamid could be committed without its message.
    with transaction.atomic(savepoint=False):
        conversations = conversations_for_many(
            phone,
            {
                index: {"customer_wa_id": c.wa_id, "customer_user_id": c.user_id, "customer_name": c.name}
                for index, c in customers.items()
            },
        )
        # New conversations (no message yet) and those the call renames: their names are indexed
        # (a former name's prefixes go).
        renamed = [
            (conversations[index], conversations[index].customer_name)
            for index, c in customers.items()
            if conversations[index].last_message_at is None or (c.name and c.name != conversations[index].customer_name)
        ]
        claimed = claim_wamids(phone.tenant_id, claims)
        stored: list[Message | None] = []
        for index, item, at in zip(indexes, items, times, strict=True):
            # popped: a wamid twice in the call is stored once, by its first item
            message_id = claimed.pop(str(item.message.get("id") or ""), None) if index else None
            if message_id is None:
                stored.append(None)
                continue
            stored.append(
                new_message(
                    message_id=message_id,
                    conversation=conversations[index],
                    direction=Message.Direction.INBOUND,
                    message=item.message,
                    status=Message.Status.RECEIVED,
                    created_at=at,
                )
            )
            customer = customers[index]
            customer.at = at if customer.at is None else max(customer.at, at)
            customer.unread += stored[-1].type != "system"  # type: ignore[union-attr]
        rows = [row for row in stored if row is not None]
        if rows:
            insert_rows(Message, rows)
            _senders_link(customers, indexes, items, stored)
        _conversations_seen(conversations, customers)
        names_forget([(conversation, old) for conversation, old in renamed if old != conversation.customer_name])
        search_terms_record(message_pairs(rows) + name_pairs([c for c, _ in renamed], timezone.now()))
        messages_arrived(phone, rows)
    return stored


def _senders_link(
    customers: dict[str, _Customer], indexes: list[str], items: list[InboundItem], stored: list[Message | None]
) -> None:
    """Finds or creates the contact of each stored message's sender (`last_inbound_at` kept) and
    notes it on the customer. Users who hide their number behind a username have none, and system
    notices, which Meta sends "from" the customer but which the customer did not write, make none."""
    senders: list[tuple[str, InboundSender]] = []
    for index, item, row in zip(indexes, items, stored, strict=True):
        wa_id = digits(item.message.get("from"))
        if row is not None and wa_id and row.type != "system":
            senders.append((index, InboundSender(wa_id=wa_id, profile_name=item.profile_name, at=row.created_at)))
    if not senders:
        return
    contacts = contacts_for_customers(senders=[sender for _, sender in senders])
    for (index, _), contact in zip(senders, contacts, strict=True):
        if contact is not None:
            customers[index].contact_id = contact.pk


# Every change is decided in the statement against the row as it is now (GREATEST / CASE), so two
# concurrent calls touching the same conversation leave the newest values whatever their order.
# The same test opens the window three times: the newest message stored is at least as new as the
# last inbound one was (SET expressions all read the row as it was before the update).
_CONVERSATIONS_SEEN = (
    "UPDATE inbox_conversation AS conversation SET"
    " customer_name = CASE WHEN seen.name <> '' THEN seen.name ELSE conversation.customer_name END,"
    " contact_id = COALESCE(seen.contact_id, conversation.contact_id),"
    " last_message_at = GREATEST(conversation.last_message_at, seen.at),"
    " last_inbound_at = CASE WHEN seen.at >= conversation.last_inbound_at"
    " OR (seen.at IS NOT NULL AND conversation.last_inbound_at IS NULL)"
    " THEN seen.at ELSE conversation.last_inbound_at END,"
    " window_expires_at = CASE WHEN seen.at >= conversation.last_inbound_at"
    " OR (seen.at IS NOT NULL AND conversation.last_inbound_at IS NULL)"
    " THEN seen.at + %s::interval ELSE conversation.window_expires_at END,"
    " status = CASE WHEN seen.at >= conversation.last_inbound_at"
    " OR (seen.at IS NOT NULL AND conversation.last_inbound_at IS NULL)"
    " THEN %s ELSE conversation.status END,"
    " snoozed_until = CASE WHEN seen.at >= conversation.last_inbound_at"
    " OR (seen.at IS NOT NULL AND conversation.last_inbound_at IS NULL)"
    " THEN NULL ELSE conversation.snoozed_until END,"
    " unread_count = conversation.unread_count + seen.unread"
    " FROM unnest(%s::bigint[], %s::text[], %s::bigint[], %s::timestamptz[], %s::int[])"
    " AS seen(id, name, contact_id, at, unread)"
    " WHERE conversation.id = seen.id"  # on the id alone: aerostic.core.sqlrows, rows by id from a list
    " RETURNING conversation.id, conversation.customer_name, conversation.contact_id, conversation.status,"
    " conversation.last_message_at, conversation.last_inbound_at, conversation.window_expires_at,"
    " conversation.snoozed_until, conversation.unread_count"
)
_SEEN_FIELDS = (
    "customer_name",
    "contact_id",
    "status",
    "last_message_at",
    "last_inbound_at",
    "window_expires_at",
    "snoozed_until",
    "unread_count",
)
# A customer who writes brings these back to the team (an event in the timeline says so).
_REOPENED_FROM = (Conversation.Status.RESOLVED, Conversation.Status.SNOOZED)


def _conversations_seen(conversations: dict[str, Conversation], customers: dict[str, _Customer]) -> None:
    """Writes what the call brought to each conversation in one statement; the objects take the
    stored values. A conversation that only saw re-deliveries under the name it has is left alone.
    A resolved or snoozed conversation the customer wrote to is open again, with an event saying so;
    open inbox pages are told (inbox.changes)."""
    seen = []
    for index, customer in customers.items():
        conversation = conversations[index]
        if customer.at is not None or (customer.name and customer.name != conversation.customer_name):
            seen.append((conversation.pk, customer.name, customer.contact_id, customer.at, customer.unread))
    seen.sort()  # by id: concurrent calls lock shared conversations in the same order
    if not seen:
        return
    ids, names, contact_ids, times, unread = (list(column) for column in zip(*seen, strict=True))
    before = {conversation.pk: conversation.status for conversation in conversations.values()}
    # psycopg adapts the timedelta (an interval); django-stubs' parameter types leave it out.
    params: list[Any] = [SERVICE_WINDOW, Conversation.Status.OPEN, ids, names, contact_ids, times, unread]
    with bound_cursor() as cursor:
        cursor.execute(_CONVERSATIONS_SEEN, params)
        stored = {row[0]: row[1:] for row in cursor.fetchall()}
    reopened = []
    for conversation in conversations.values():
        if conversation.pk in stored:
            for field, value in zip(_SEEN_FIELDS, stored[conversation.pk], strict=True):
                setattr(conversation, field, value)
            if before[conversation.pk] in _REOPENED_FROM and conversation.status == Conversation.Status.OPEN:
                reopened.append(conversation)
    if reopened:
        ConversationEvent.objects.bulk_create(
            ConversationEvent(
                tenant_id=conversation.tenant_id,
                conversation=conversation,
                kind=ConversationEvent.Kind.REOPENED,
                data={"reason": "customer_wrote"},
            )
            for conversation in reopened
        )
    changes.conversations_changed(next(iter(conversations.values())).tenant_id, stored)
