"""Outbound messages' recipient indexes recomputed from their decrypted recipient: per workspace
(migration 0007), then the contact's index of the number instead of a second one (migration 0011,
and back when it is reversed)."""

from __future__ import annotations

from typing import Any

from aerostic.core.reindexing import BATCH_SIZE, MIGRATION_SCOPE, rows_in_batches, write_column
from aerostic.core.tenant_context import platform_context
from contacts.reindexing import NumberIndex, number_index


def outbound_recipient_indexes_rewrite(
    outbound_model: Any, *, index: NumberIndex = number_index, batch_size: int = BATCH_SIZE
) -> int:
    """Every outbound message's `recipient_index` from its decrypted recipient and its workspace
    (the same key as the conversation's, `index`: the current one unless a reverse asks for the
    previous); an erased recipient keeps an empty index. Returns how many rows changed."""
    changed = 0
    with platform_context(MIGRATION_SCOPE):
        fields = ("tenant", "recipient", "recipient_index")
        for batch in rows_in_batches(outbound_model, fields=fields, batch_size=batch_size):
            values = {}
            for message in batch:
                recipient = message.recipient.reveal() if message.recipient else ""
                values[message.pk] = index(recipient, tenant=message.tenant_id) if recipient else ""
            changed += write_column(outbound_model, "recipient_index", values)
    return changed
