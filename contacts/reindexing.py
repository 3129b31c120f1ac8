"""Contacts' phone indexes rewritten to the per-workspace derivation (migration 0002)."""

from __future__ import annotations

from typing import Any

from aerostic.core.reindexing import BATCH_SIZE, MIGRATION_SCOPE, rows_in_batches, write_column
from aerostic.core.tenant_context import platform_context
from contacts.phones import phone_index


def contact_phone_indexes_rewrite(contact_model: Any, *, batch_size: int = BATCH_SIZE) -> int:
    """Every contact's `phone_index` from its decrypted number and its workspace; an erased contact
    (no number) keeps an empty index. `contact_model` is the migration's historical model (or the
    real one). Returns how many rows changed."""
    changed = 0
    with platform_context(MIGRATION_SCOPE):
        for batch in rows_in_batches(contact_model, fields=("tenant", "phone", "phone_index"), batch_size=batch_size):
            values = {}
            for contact in batch:
                number = contact.phone.reveal() if contact.phone else ""
                values[contact.pk] = phone_index(number, tenant=contact.tenant_id) if number else ""
            changed += write_column(contact_model, "phone_index", values)
    return changed
