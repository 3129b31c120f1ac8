"""The inbox search index rebuilt from what is stored (inbox.search_terms): after BLIND_INDEX_KEY
changes (every hash changes with it) or for conversations written before the index existed.

One workspace at a time, in its tenant context, one transaction per chunk of conversations: their
terms are deleted, then written again from their customer's name and their messages' texts
(what retention and erasure left of them)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from aerostic.core.tenant_context import tenant_context
from inbox.models import Conversation, Message, SearchTerm
from inbox.search_terms import message_pairs, name_pairs, search_terms_record

CHUNK = 500  # conversations per transaction


def search_terms_rebuild(*, tenant_id: int, chunk: int = CHUNK) -> dict[str, int]:
    """Rebuilds the workspace's search terms. Returns how many conversations and terms were written."""
    conversations = terms = 0
    with tenant_context(tenant_id):
        after = 0
        while True:
            rows = list(
                Conversation.objects.filter(pk__gt=after)
                .order_by("pk")
                .only("id", "tenant_id", "customer_name")[:chunk]
            )
            if not rows:
                break
            after = rows[-1].pk
            ids = [row.pk for row in rows]
            with transaction.atomic():
                SearchTerm.objects.filter(conversation_id__in=ids).delete()
                messages = (
                    Message.objects.filter(conversation_id__in=ids)
                    .exclude(body="", type="text")
                    .only("id", "tenant_id", "conversation_id", "type", "body", "payload", "created_at")
                    .iterator(chunk_size=2000)
                )
                terms += search_terms_record(name_pairs(rows, timezone.now()) + message_pairs(messages))
            conversations += len(rows)
    return {"conversations": conversations, "terms": terms}
