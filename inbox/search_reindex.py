"""The inbox search index rebuilt from what is stored (inbox.search_terms): after BLIND_INDEX_KEY
changes (every hash changes with it) or for conversations written before the index existed
(migration 0011 runs it for every workspace).

One workspace at a time, in its tenant context, one transaction per chunk of conversations: their
terms are deleted, then written again from their customer's name and their messages' texts
(what retention and erasure left of them). Reads name only the columns they need and writes are
plain SQL, so a data migration passes its historical models and gets the same rebuild."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from aerostic.core.sqlrows import bound_cursor
from aerostic.core.tenant_context import tenant_context
from inbox.models import Conversation, Message
from inbox.search_terms import message_pairs, name_pairs, search_terms_record

CHUNK = 500  # conversations per transaction

_FORGET_CHUNK = "DELETE FROM inbox_searchterm WHERE conversation_id = ANY(%s::bigint[])"


def search_terms_rebuild(
    *, tenant_id: int, chunk: int = CHUNK, conversation_model: Any = Conversation, message_model: Any = Message
) -> dict[str, int]:
    """Rebuilds the workspace's search terms. Returns how many conversations and terms were written."""
    conversations = terms = 0
    with tenant_context(tenant_id):
        after = 0
        while True:
            rows = list(
                conversation_model._base_manager.filter(tenant_id=tenant_id, pk__gt=after)
                .order_by("pk")
                .only("id", "tenant_id", "customer_name")[:chunk]
            )
            if not rows:
                break
            after = rows[-1].pk
            ids = [row.pk for row in rows]
            with transaction.atomic():
                with bound_cursor() as cursor:
                    cursor.execute(_FORGET_CHUNK, [ids])
                messages = (
                    message_model._base_manager.filter(tenant_id=tenant_id, conversation_id__in=ids)
                    .exclude(body="", type="text")
                    .only("id", "tenant_id", "conversation_id", "type", "body", "payload", "created_at")
                    .iterator(chunk_size=2000)
                )
                terms += search_terms_record(name_pairs(rows, timezone.now()) + message_pairs(messages))
            conversations += len(rows)
    return {"conversations": conversations, "terms": terms}
