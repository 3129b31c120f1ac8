"""Compliance rows whose blind index is rewritten. Migration 0005 (indexes per workspace): WhatsApp
preference events get the per-workspace customer index of their decrypted number, and import
consent events lose the phone index their dedupe key carried (the key is per contact). Migration
0007 (one index per number): preference events that kept a number get the contact's index of it
(and the previous one back when it is reversed)."""

from __future__ import annotations

from typing import Any

from django.db import connection

from aerostic.core.reindexing import BATCH_SIZE, MIGRATION_SCOPE, rows_in_batches, write_column
from aerostic.core.tenant_context import platform_context
from compliance.consent import ledger_unlocked
from contacts.reindexing import NumberIndex, number_index

# "import:" + 56 hex digits of the file's sha256 (+ ":" + the row's phone index, before).
IMPORT_KEY_LENGTH = len("import:") + 56

# One event per contact and file: the key's old index part was redundant with the contact, and it
# was the same in every workspace. A key that would collide (never expected) keeps the row id.
_STRIP_IMPORT_KEYS = f"""
UPDATE compliance_consentevent AS e
SET dedupe_key = CASE WHEN d.position = 1 THEN left(e.dedupe_key, {IMPORT_KEY_LENGTH})
                      ELSE left(e.dedupe_key, {IMPORT_KEY_LENGTH}) || ':' || e.id END
FROM (
    SELECT id, row_number() OVER (
        PARTITION BY tenant_id, contact_id, left(dedupe_key, {IMPORT_KEY_LENGTH}) ORDER BY id
    ) AS position
    FROM compliance_consentevent
    WHERE dedupe_key ~ '^import:[0-9a-f]{{56}}:[0-9a-f]{{64}}$'
) AS d
WHERE e.id = d.id
"""  # noqa: S608  (no input in it)


def preference_indexes_rewrite(
    preference_model: Any, *, index: NumberIndex = number_index, batch_size: int = BATCH_SIZE
) -> int:
    """`customer_index` of every preference event that kept the customer's number, from that
    number and its workspace (`index`: the current one unless a reverse asks for the previous).
    Events of users known only by a username are left alone here (their user-id index never
    changes with the number's; the inbox's migration 0004 found them through the conversations).
    Returns how many rows changed."""
    changed = 0
    with platform_context(MIGRATION_SCOPE):
        fields = ("tenant", "customer_wa_id", "customer_index")
        for batch in rows_in_batches(preference_model, fields=fields, batch_size=batch_size):
            values = {}
            for event in batch:
                wa_id = event.customer_wa_id.reveal() if event.customer_wa_id else ""
                if wa_id:
                    values[event.pk] = index(wa_id, tenant=event.tenant_id)
            changed += write_column(preference_model, "customer_index", values)
    return changed


def import_consent_keys_strip() -> int:
    """Import consent events' dedupe keys without the phone index. The ledger is append-only: the
    trigger lets this through only with the erase setting, set for this statement's transaction."""
    with platform_context(MIGRATION_SCOPE), ledger_unlocked(), connection.cursor() as cursor:
        cursor.execute(_STRIP_IMPORT_KEYS)
        return cursor.rowcount
