"""Outbound messages' recipient indexes rewritten to the per-workspace derivation (migration 0007)."""

from __future__ import annotations

from typing import Any

from aerostic.core.reindexing import BATCH_SIZE, MIGRATION_SCOPE, rows_in_batches, write_column
from aerostic.core.tenant_context import platform_context
from contacts.phones import customer_index


def outbound_recipient_indexes_rewrite(outbound_model: Any, *, batch_size: int = BATCH_SIZE) -> int:
    """Every outbound message's `recipient_index` from its decrypted recipient and its workspace
    (the same key as the conversation's); an erased recipient keeps an empty index. Returns how
    many rows changed."""
    changed = 0
    with platform_context(MIGRATION_SCOPE):
        fields = ("tenant", "recipient", "recipient_index")
        for batch in rows_in_batches(outbound_model, fields=fields, batch_size=batch_size):
            values = {}
            for message in batch:
                recipient = message.recipient.reveal() if message.recipient else ""
                values[message.pk] = customer_index(tenant=message.tenant_id, wa_id=recipient) if recipient else ""
            changed += write_column(outbound_model, "recipient_index", values)
    return changed
