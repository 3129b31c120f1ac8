"""What the inbox keeps of a person, for compliance's GDPR erase, subject-access export and
message retention (registered with compliance.privacy.register_personal_data in
InboxConfig.ready(): compliance sits below the inbox and never names it).

An erase keeps every message row with its type, direction, status, timestamps and pricing, so
billing totals and delivery statistics still add up; bodies, payloads (texts, captions, media ids,
contact cards, locations, replies), the media files kept of them, the conversations' WhatsApp id,
name and index, status events' recipient index and the search index of their words (inbox.search_terms) go.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import connection, models
from django.db.models import Q, Value

from compliance.privacy import ErasedPerson, PersonalDataExport
from contacts.models import Contact
from inbox.media import MEDIA_KINDS, files_delete_on_commit
from inbox.models import Conversation, ConversationEvent, MediaFile, Message, MessageStatusEvent, SearchTerm
from inbox.search_terms import search_terms_expire

# An erased conversation's customer_index: unique (the one-conversation-per-customer rule still
# holds), not derived from anything, so it links to no one.
ERASED_INDEX_PREFIX = "erased:"
# A column really empty, not an encrypted empty string: EncryptedTextField would seal "" into a
# ciphertext (a truthy SealedValue); Value("") is written as is and reads back as a falsy one.
_EMPTY = Value("")

# The payload keeps Meta's id, time and type; text, captions, media ids, contact cards (sealed),
# locations and replies all go. `redacted` marks the row so a second pass skips it.
_REDACT_MESSAGES_SQL = (
    "UPDATE inbox_message SET body = '', sealed_payload = NULL, payload = jsonb_strip_nulls(jsonb_build_object("
    "'id', payload->'id', 'timestamp', payload->'timestamp', 'type', payload->'type', 'redacted', %s::text))"
    " WHERE tenant_id = %s AND payload->>'redacted' IS NULL AND {condition}"
)


# The files kept of those messages' media (inbox.media), found from the payloads about to be
# cleared, in the same statement that deletes their rows.
_FORGET_MEDIA_SQL = (
    "DELETE FROM inbox_mediafile WHERE tenant_id = %s AND media_id IN ("
    "SELECT payload->(payload->>'type')->>'id' FROM inbox_message"
    " WHERE tenant_id = %s AND payload->>'redacted' IS NULL AND type = ANY(%s) AND {condition})"
    " RETURNING file"
)


def _redact_messages(*, tenant_id: int, reason: str, condition: str, params: list[Any]) -> int:
    """Clears body and payload of the tenant's messages matching `condition` (every partition: the
    UPDATE goes through the parent table), and deletes the media files kept of them (the files
    themselves once the transaction commits). Returns how many messages changed."""
    with connection.cursor() as cursor:
        cursor.execute(
            _FORGET_MEDIA_SQL.format(condition=condition), [tenant_id, tenant_id, sorted(MEDIA_KINDS), *params]
        )
        files_delete_on_commit([name for (name,) in cursor.fetchall()])
        cursor.execute(_REDACT_MESSAGES_SQL.format(condition=condition), [reason, tenant_id, *params])
        return cursor.rowcount


def _conversations_of(contact_id: int, index: str) -> models.QuerySet[Conversation]:
    """Linked by the contact FK, or (conversations older than the link) by the customer index."""
    match = Q(contact_id=contact_id)
    if index:
        match |= Q(customer_index=index)
    return Conversation.objects.filter(match)


def conversations_erase(*, person: ErasedPerson) -> dict[str, int]:
    """Clears the erased person's message bodies and payloads in every monthly partition, their
    conversations' WhatsApp id, name and index, and status events' recipient index. Runs in
    compliance's contact_erase transaction; the counts go into its audit event."""
    index = person.customer_index
    conversation_ids = list(_conversations_of(person.contact_id, index).values_list("pk", flat=True))
    messages = 0
    if conversation_ids:
        messages = _redact_messages(
            tenant_id=person.tenant_id,
            reason="erased",
            condition="conversation_id = ANY(%s)",
            params=[conversation_ids],
        )
    for conversation_id in conversation_ids:
        Conversation.objects.filter(pk=conversation_id).update(
            customer_wa_id=_EMPTY,
            customer_index=f"{ERASED_INDEX_PREFIX}{uuid.uuid4().hex}",
            customer_user_id="",
            customer_name="",
        )
    # The search index of their words and name goes with them.
    SearchTerm.objects.filter(conversation_id__in=conversation_ids).delete()
    # Agents' notes may quote the person: their text goes with the messages'.
    ConversationEvent.objects.filter(conversation_id__in=conversation_ids, kind=ConversationEvent.Kind.NOTE).update(
        body=""
    )
    status_events = MessageStatusEvent.objects.filter(recipient_index=index).update(recipient_index="") if index else 0
    return {"conversations": len(conversation_ids), "messages": messages, "status_events": status_events}


def messages_expire(*, tenant_id: int, before: datetime) -> int:
    """Clears bodies and media references of the workspace's messages created before `before`
    (message retention). Returns how many rows changed."""
    # The words of those messages leave the search index (names are indexed again).
    search_terms_expire(tenant_id=tenant_id, before=before)
    # created_at is the partition key: whole months past the cutoff are pruned from the plan.
    return _redact_messages(tenant_id=tenant_id, reason="retention", condition="created_at < %s", params=[before])


def media_erase_all(*, tenant_id: int) -> None:
    """A workspace erase: the workspace's stored media files go once its rows are deleted."""
    files_delete_on_commit(list(MediaFile.objects.filter(tenant_id=tenant_id).values_list("file", flat=True)))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def conversations_export(*, contact: Contact, customer_index: str) -> PersonalDataExport:
    """The contact's conversations with their messages, for the subject-access export."""
    conversations = list(
        _conversations_of(contact.pk, customer_index).select_related("phone_number").order_by("created_at")
    )
    messages_by_conversation: dict[int, list[dict[str, Any]]] = {c.pk: [] for c in conversations}
    messages = Message.objects.filter(conversation_id__in=list(messages_by_conversation)).order_by("created_at", "id")
    for message in messages:
        messages_by_conversation[message.conversation_id].append(
            {
                "direction": message.direction,
                "type": message.type,
                "body": message.body,
                "status": message.status,
                "created_at": _iso(message.created_at),
                "sent_at": _iso(message.sent_at),
                "delivered_at": _iso(message.delivered_at),
                "read_at": _iso(message.read_at),
                "failed_at": _iso(message.failed_at),
            }
        )
    sections = {
        "conversations": [
            {
                "business_number": conversation.phone_number.display_phone_number,
                "status": conversation.status,
                "created_at": _iso(conversation.created_at),
                "last_message_at": _iso(conversation.last_message_at),
                "messages": messages_by_conversation[conversation.pk],
            }
            for conversation in conversations
        ]
    }
    counts = {"conversations": len(conversations), "messages": sum(map(len, messages_by_conversation.values()))}
    return PersonalDataExport(sections=sections, counts=counts)
