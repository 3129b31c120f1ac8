"""The inbox's customer indexes rewritten to the per-workspace derivation (migration 0004).

Conversations are recomputed from their decrypted WhatsApp id (or business-scoped user id).
Status events and the WhatsApp preference events of users known only by a username keep no
number to recompute from: they are translated through the conversations (old index → new), and
an index no conversation knows is dropped (blank for status events, a unique placeholder for
preference events), so no row keeps an index shared across workspaces.
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from aerostic.core.reindexing import BATCH_SIZE, MIGRATION_SCOPE, legacy_blind_index, rows_in_batches, write_column
from aerostic.core.tenant_context import platform_context
from aerostic.core.values import digits
from contacts.phones import CUSTOMER_INDEX_PURPOSE, customer_index

# Conversations erased by compliance.privacy keep a random, unique index: nothing to rewrite.
ERASED_PREFIX = "erased:"

_STATUS_EVENTS = """
UPDATE inbox_messagestatusevent AS s SET recipient_index = t.new
FROM (
    SELECT e.id, COALESCE(
        (SELECT m.new FROM reindex_customer AS m WHERE m.tenant_id = e.tenant_id AND m.old = e.recipient_index LIMIT 1),
        ''
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
        cursor.execute("CREATE TEMPORARY TABLE reindex_customer (tenant_id bigint, old text, new text) ON COMMIT DROP")
        fields = ("tenant", "customer_wa_id", "customer_user_id", "customer_index")
        for batch in rows_in_batches(conversation_model, fields=fields, batch_size=batch_size):
            values: dict[int, str] = {}
            pairs: list[tuple[int, str, str]] = []
            for conversation in batch:
                if conversation.customer_index.startswith(ERASED_PREFIX):
                    continue
                new, translations = _translations(conversation)
                if new:
                    values[conversation.pk] = new
                    pairs += translations
            changed["conversations"] += write_column(conversation_model, "customer_index", values)
            if pairs:
                tenants, olds, news = zip(*pairs, strict=True)
                cursor.execute(
                    "INSERT INTO reindex_customer SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[])",
                    [list(tenants), list(olds), list(news)],
                )
        cursor.execute("CREATE INDEX ON reindex_customer (tenant_id, old)")
        cursor.execute("ANALYZE reindex_customer")
        cursor.execute(_STATUS_EVENTS)
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
