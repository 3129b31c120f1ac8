"""Messages the business sent, kept in their conversations: what the send path sent (in bulk,
one call per chunk; a lost answer settled later is a batch of one), echoes of what the WhatsApp
Business app sent on a shared number, and history syncs (both directions, kept as history).
Statuses that arrived before their message are applied as it is stored."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction

from aerostic.core.sqlrows import bound_cursor, insert_rows
from aerostic.core.values import digits
from contacts.phones import customer_index
from inbox import changes
from inbox.conversations import conversation_for, conversations_for_many, refuse_another_tenant
from inbox.models import Conversation, Message
from inbox.rows import claim_wamids, new_message, when
from inbox.search_terms import message_pairs, search_terms_record
from inbox.statuses import apply_waiting_statuses_many
from whatsapp.fanout import SentItem

if TYPE_CHECKING:
    from whatsapp.models import PhoneNumber


def _store(*, conversation: Conversation, direction: str, message: dict[str, Any], status: str) -> Message | None:
    wamid = str(message.get("id") or "")
    if not wamid:
        return None
    created_at = when(message.get("timestamp"))
    message_id = claim_wamids(conversation.tenant_id, {wamid: created_at}).get(wamid)  # None: a re-delivery
    if message_id is None:
        return None
    stored = new_message(
        message_id=message_id,
        conversation=conversation,
        direction=direction,
        message=message,
        status=status,
        created_at=created_at,
    )
    if direction == Message.Direction.OUTBOUND:  # statuses only ever concern what the business sent
        # A batch of one, applied to the row before it is inserted (as outbound_store_many does).
        apply_waiting_statuses_many([stored])
    stored.save(force_insert=True)
    search_terms_record(message_pairs([stored]))
    return stored


def outbound_store(
    *, phone: Any, to: str, wamid: str, content: dict[str, Any], category: str = "", contact: Any = None
) -> Message | None:
    """A message the dispatcher just sent (Meta answered with its wamid): kept in the conversation
    as outbound `sent`, so its status webhooks find it. None when the wamid is already stored."""
    conversation = conversation_for(phone=phone, customer_wa_id=to)
    if conversation is None:
        return None
    if contact is not None and conversation.contact_id is None:
        Conversation.objects.filter(pk=conversation.pk).update(contact=contact)
    message = _outbound_payload(to=to, wamid=wamid, content=content, timestamp=_now_timestamp())
    stored = _store(conversation=conversation, direction=Message.Direction.OUTBOUND, message=message, status="sent")
    if stored is not None:
        updates: dict[str, Any] = {"last_message_at": stored.created_at}
        if category:
            stored.pricing_category = category
            Message.objects.filter(pk=stored.pk, created_at=stored.created_at).update(pricing_category=category)
        Conversation.objects.filter(pk=conversation.pk).update(**updates)
    return stored


def _now_timestamp() -> str:
    # Meta's format, so the stored time has the same (whole second) precision as a webhook's.
    return str(int(datetime.now(tz=UTC).timestamp()))


def _outbound_payload(*, to: str, wamid: str, content: dict[str, Any], timestamp: str) -> dict[str, Any]:
    # Meta's message object as a webhook would show it; `to` is dropped when stored (inbox.payloads).
    return {**content, "id": wamid, "to": digits(to), "timestamp": timestamp}


def outbound_store_many(*, phone: PhoneNumber, items: list[SentItem]) -> int:
    """Same result as calling outbound_store for each item (conversation created when missing,
    contact linked when the conversation has none, message stored as outbound `sent`, wamid unique,
    conversation.last_message_at updated, statuses that arrived before the message applied), in a
    constant number of statements per call. Returns how many messages were stored (a wamid already
    stored is skipped). Runs inside the tenant's context and the caller's transaction."""
    refuse_another_tenant(phone)
    indexed = [(item.index or customer_index(tenant=phone.tenant_id, wa_id=item.to), item) for item in items]
    indexed = [(index, item) for index, item in indexed if index]
    if not indexed:
        return 0
    timestamp = _now_timestamp()
    created_at = when(timestamp)
    # Without the caller's transaction, a claimed wamid could be committed without its message.
    with transaction.atomic(savepoint=False):
        conversations = conversations_for_many(
            phone, {index: {"customer_wa_id": digits(item.to)} for index, item in indexed}
        )
        _link_contacts(conversations, indexed)
        claimed = claim_wamids(phone.tenant_id, dict.fromkeys((item.wamid for _, item in indexed), created_at))
        rows: list[Message] = []
        categories: list[str] = []
        for index, item in indexed:
            message_id = claimed.pop(item.wamid, None)  # popped: a wamid twice in the call is stored once
            if message_id is None:
                continue
            row = new_message(
                message_id=message_id,
                conversation=conversations[index],
                direction=Message.Direction.OUTBOUND,
                message=_outbound_payload(to=item.to, wamid=item.wamid, content=item.content, timestamp=timestamp),
                status=Message.Status.SENT,
                created_at=created_at,
            )
            rows.append(row)
            categories.append(item.category)
        if not rows:
            return 0
        # Applied to the rows before they are inserted, so no row is written twice.
        apply_waiting_statuses_many(rows)
        for row, category in zip(rows, categories, strict=True):
            if category:  # after the statuses, as in outbound_store: the category we sent wins over Meta's
                row.pricing_category = category
        insert_rows(Message, rows)
        search_terms_record(message_pairs(rows))
        touched = {row.conversation_id for row in rows}
        Conversation.objects.filter(pk__in=touched).update(last_message_at=created_at)
        changes.conversations_changed(phone.tenant_id, touched)
    return len(rows)


# The IS NULL test is in the statement: a contact linked meanwhile (an inbound message) is kept.
# Joined on the id alone (aerostic.core.sqlrows: rows by id from a list).
_LINK_CONTACTS = (
    "UPDATE inbox_conversation AS conversation SET contact_id = link.contact_id"
    " FROM unnest(%s::bigint[], %s::bigint[]) AS link(id, contact_id)"
    " WHERE conversation.id = link.id AND conversation.contact_id IS NULL"
)


def _link_contacts(conversations: dict[str, Conversation], indexed: list[tuple[str, SentItem]]) -> None:
    links: dict[int, int] = {}
    for index, item in indexed:
        conversation = conversations[index]
        if item.contact_id is not None and conversation.contact_id is None:
            links.setdefault(conversation.pk, item.contact_id)  # the first item's, as one call after another
    if not links:
        return
    ordered = sorted(links.items())  # by id: concurrent calls lock shared conversations in one order
    with bound_cursor() as cursor:
        cursor.execute(_LINK_CONTACTS, [[pk for pk, _ in ordered], [contact for _, contact in ordered]])
    for conversation in conversations.values():
        if conversation.pk in links:
            conversation.contact_id = links[conversation.pk]


def echo_store(*, phone: Any, message: dict[str, Any]) -> Message | None:
    """A message the business sent from the WhatsApp Business app (coexistence): shown as outbound."""
    conversation = conversation_for(
        phone=phone, customer_wa_id=message.get("to", ""), customer_user_id=message.get("to_user_id", "")
    )
    if conversation is None:
        return None
    stored = _store(
        conversation=conversation, direction=Message.Direction.OUTBOUND, message=message, status=Message.Status.SENT
    )
    if stored is not None and (
        conversation.last_message_at is None or stored.created_at > conversation.last_message_at
    ):
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=stored.created_at)
    if stored is not None:
        changes.conversations_changed(conversation.tenant_id, [conversation.pk])
    return stored


HISTORY_STATUS = {"READ": "read", "PLAYED": "read", "DELIVERED": "delivered", "SENT": "sent", "ERROR": "failed"}


def history_store(*, phone: Any, thread_id: str, message: dict[str, Any]) -> Message | None:
    """One message of a history sync (a number moved from the WhatsApp Business app brings up to
    six months of chats). Kept as history: it moves no window and no last-message time backwards."""
    customer = digits(thread_id)
    conversation = conversation_for(phone=phone, customer_wa_id=customer)
    if conversation is None:
        return None
    inbound = digits(message.get("from")) == customer
    context = message.get("history_context") or {}
    status = (
        Message.Status.RECEIVED
        if inbound
        else HISTORY_STATUS.get(str(context.get("status", "")).upper(), Message.Status.SENT)
    )
    stored = _store(
        conversation=conversation,
        direction=Message.Direction.INBOUND if inbound else Message.Direction.OUTBOUND,
        message=message,
        status=status,
    )
    if stored is not None and (
        conversation.last_message_at is None or stored.created_at > conversation.last_message_at
    ):
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=stored.created_at)
        conversation.last_message_at = stored.created_at
    return stored
