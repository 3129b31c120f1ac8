"""The inbox's customer indexes rewritten: to the per-workspace derivation (migration 0004), then
to one index per number, the contact's (migration 0007, `number_indexes_rewrite`).

Conversations are recomputed from their decrypted WhatsApp id (or business-scoped user id).
Status events and the WhatsApp preference events of users known only by a username keep no
number to recompute from: they are translated (old index → new) through a table of the pairs the
decrypted numbers give. In 0004 an index no conversation knows is dropped (blank for status
events, a unique placeholder for preference events), so no row keeps an index shared across
workspaces; in 0007 it is kept (see `number_indexes_rewrite`).
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from aerostic.core.reindexing import BATCH_SIZE, MIGRATION_SCOPE, legacy_blind_index, rows_in_batches, write_column
from aerostic.core.tenant_context import platform_context
from aerostic.core.values import digits
from contacts.phones import CUSTOMER_INDEX_PURPOSE, customer_index
from contacts.reindexing import NumberIndex, number_index, previous_customer_index
from inbox.personal_data import ERASED_INDEX_PREFIX

# Conversations erased by compliance.privacy keep a random, unique index: nothing to rewrite.

# {unknown}: what a status event whose index is in no pair gets ('' drops it; e.recipient_index keeps it).
_STATUS_EVENTS = """
UPDATE inbox_messagestatusevent AS s SET recipient_index = t.new
FROM (
    SELECT e.id, COALESCE(
        (SELECT m.new FROM reindex_customer AS m WHERE m.tenant_id = e.tenant_id AND m.old = e.recipient_index LIMIT 1),
        {unknown}
    ) AS new
    FROM inbox_messagestatusevent AS e WHERE e.recipient_index <> ''
) AS t
WHERE s.id = t.id AND s.recipient_index IS DISTINCT FROM t.new
"""
_USERNAME_PREFERENCES = """
UPDATE compliance_userpreferenceevent AS p SET customer_index = t.new
FROM (
    SELECT e.id, COALESCE(
        (SELECT m.new FROM reindex_customer AS m WHERE m.tenant_id = e.tenant_id AND m.old = e.customer_index LIMIT 1),
        'unlinked:' || e.id
    ) AS new
    FROM compliance_userpreferenceevent AS e WHERE e.id = ANY(%s)
) AS t
WHERE p.id = t.id AND p.customer_index IS DISTINCT FROM t.new
"""


_PAIRS_TABLE = "CREATE TEMPORARY TABLE reindex_customer (tenant_id bigint, old text, new text) ON COMMIT DROP"


def _pairs_insert(cursor: Any, pairs: list[tuple[int, str, str]]) -> None:
    if pairs:
        tenants, olds, news = zip(*pairs, strict=True)
        cursor.execute(
            "INSERT INTO reindex_customer SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[])",
            [list(tenants), list(olds), list(news)],
        )


def _pairs_ready(cursor: Any) -> None:
    cursor.execute("CREATE INDEX ON reindex_customer (tenant_id, old)")
    cursor.execute("ANALYZE reindex_customer")


def _translations(conversation: Any) -> tuple[str, list[tuple[int, str, str]]]:
    """The conversation's new index, and (tenant, old, new) for each key the customer had. The
    new keys map to themselves, so running the translation again changes nothing."""
    wa_id = digits(conversation.customer_wa_id.reveal()) if conversation.customer_wa_id else ""
    user_id = conversation.customer_user_id
    tenant = conversation.tenant_id
    pairs = []
    if wa_id:
        new = customer_index(tenant=tenant, wa_id=wa_id)
        pairs += [(tenant, legacy_blind_index(wa_id, purpose=CUSTOMER_INDEX_PURPOSE), new), (tenant, new, new)]
    if user_id:
        new = customer_index(tenant=tenant, user_id=user_id)
        pairs += [
            (tenant, legacy_blind_index(f"user:{user_id}", purpose=CUSTOMER_INDEX_PURPOSE), new),
            (tenant, new, new),
        ]
    return customer_index(tenant=tenant, wa_id=wa_id, user_id=user_id), pairs


def inbox_indexes_rewrite(
    conversation_model: Any, status_event_model: Any, preference_model: Any, *, batch_size: int = BATCH_SIZE
) -> dict[str, int]:
    """Rewrites conversations, then status events and username-only preference events through
    them. Runs inside the migration's transaction (the translation table is dropped at commit).
    Returns rows changed per table."""
    changed = {"conversations": 0, "status_events": 0, "preference_events": 0}
    with platform_context(MIGRATION_SCOPE), connection.cursor() as cursor:
        cursor.execute(_PAIRS_TABLE)
        fields = ("tenant", "customer_wa_id", "customer_user_id", "customer_index")
        for batch in rows_in_batches(conversation_model, fields=fields, batch_size=batch_size):
            values: dict[int, str] = {}
            pairs: list[tuple[int, str, str]] = []
            for conversation in batch:
                if conversation.customer_index.startswith(ERASED_INDEX_PREFIX):
                    continue
                new, translations = _translations(conversation)
                if new:
                    values[conversation.pk] = new
                    pairs += translations
            changed["conversations"] += write_column(conversation_model, "customer_index", values)
            _pairs_insert(cursor, pairs)
        _pairs_ready(cursor)
        cursor.execute(_STATUS_EVENTS.format(unknown="''"))
        changed["status_events"] = cursor.rowcount
        username_only = [
            event.pk
            for batch in rows_in_batches(preference_model, fields=("customer_wa_id",), batch_size=batch_size)
            for event in batch
            if not (event.customer_wa_id and event.customer_wa_id.reveal())
        ]
        if username_only:
            cursor.execute(_USERNAME_PREFERENCES, [username_only])
            changed["preference_events"] = cursor.rowcount
        cursor.execute("DROP TABLE reindex_customer")
    return changed


def number_indexes_rewrite(
    conversation_model: Any,
    status_event_model: Any,
    outbound_model: Any,
    *,
    old: NumberIndex = previous_customer_index,
    new: NumberIndex = number_index,
    batch_size: int = BATCH_SIZE,
) -> dict[str, int]:
    """Migration 0007: a number's index becomes the contact's (`new`) instead of its own (`old`);
    its reverse swaps the two. Runs inside the migration's transaction. Returns rows changed per table.

    Conversations keyed by a number get `new` of their decrypted WhatsApp id. Left alone: erased
    conversations (a random "erased:…" index, no number) and users known only by a user id (their
    key does not depend on the number's). Status events keep no number: each is translated old →
    new through the pairs the decrypted numbers of conversations and outbound messages give (and
    new → new, so a second run changes nothing).

    A status event whose recipient is known nowhere (no conversation, no outbound message with that
    number: not expected, since every message sent through us has both) keeps its index, which then
    matches nothing, exactly as a change of BLIND_INDEX_KEY would leave it. That is harmless: the
    only reader of a status event's `recipient_index` is the GDPR erase
    (`inbox.personal_data.conversations_erase`), which blanks the erased person's; the value is an
    HMAC that holds no number, under a key nothing computes any more.
    """
    changed = {"conversations": 0, "status_events": 0}
    with platform_context(MIGRATION_SCOPE), connection.cursor() as cursor:
        cursor.execute(_PAIRS_TABLE)
        fields = ("tenant", "customer_wa_id", "customer_index")
        for batch in rows_in_batches(conversation_model, fields=fields, batch_size=batch_size):
            values: dict[int, str] = {}
            pairs: list[tuple[int, str, str]] = []
            for conversation in batch:
                wa_id = digits(conversation.customer_wa_id.reveal()) if conversation.customer_wa_id else ""
                if wa_id and not conversation.customer_index.startswith(ERASED_INDEX_PREFIX):
                    values[conversation.pk] = new(wa_id, tenant=conversation.tenant_id)
                    pairs += _number_pairs(wa_id, conversation.tenant_id, old=old, new=new)
            changed["conversations"] += write_column(conversation_model, "customer_index", values)
            _pairs_insert(cursor, pairs)
        for batch in rows_in_batches(outbound_model, fields=("tenant", "recipient"), batch_size=batch_size):
            pairs = []
            for message in batch:
                wa_id = digits(message.recipient.reveal()) if message.recipient else ""
                if wa_id:
                    pairs += _number_pairs(wa_id, message.tenant_id, old=old, new=new)
            _pairs_insert(cursor, pairs)
        _pairs_ready(cursor)
        cursor.execute(_STATUS_EVENTS.format(unknown="e.recipient_index"))
        changed["status_events"] = cursor.rowcount
        cursor.execute("DROP TABLE reindex_customer")
    return changed


def _number_pairs(wa_id: str, tenant: int, *, old: NumberIndex, new: NumberIndex) -> list[tuple[int, str, str]]:
    target = new(wa_id, tenant=tenant)
    return [(tenant, old(wa_id, tenant=tenant), target), (tenant, target, target)]
