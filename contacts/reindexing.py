"""Rewriting stored phone-number indexes: contacts' to the per-workspace derivation (migration
0002), and the two derivations of a WhatsApp number the other apps' migrations move between.

Until inbox 0007, whatsapp 0011 and compliance 0007, conversations, outbound messages, status and
preference events keyed a number by its own index (`previous_customer_index`: the customer purpose
over the bare digits); since then they key it by the contact's (`number_index`). Each app's
reindexing module walks its rows with one of these as the new value and the other as the old, so
the same code runs a migration and its reverse.
"""

from __future__ import annotations

from typing import Any, Protocol

from aerostic.core.crypto import blind_index
from aerostic.core.reindexing import BATCH_SIZE, MIGRATION_SCOPE, rows_in_batches, write_column
from aerostic.core.tenant_context import platform_context
from aerostic.core.values import digits
from contacts.phones import CUSTOMER_INDEX_PURPOSE, customer_index, phone_index


class NumberIndex(Protocol):
    def __call__(self, wa_id: str, *, tenant: int) -> str: ...


def number_index(wa_id: str, *, tenant: int) -> str:
    """A WhatsApp number's index as stored now: the contact's (`customer_index` of the number)."""
    return customer_index(tenant=tenant, wa_id=wa_id)


def previous_customer_index(wa_id: str, *, tenant: int) -> str:
    """A WhatsApp number's index as stored before it was the contact's: the customer purpose over the
    digits. Only to recognise rows written then, and to write them back when the migrations that
    replaced it are reversed; never to store otherwise."""
    return blind_index(digits(wa_id), purpose=CUSTOMER_INDEX_PURPOSE, tenant=tenant)


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
