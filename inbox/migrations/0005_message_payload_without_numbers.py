"""Stored message payloads without numbers: `sealed_payload` added, existing rows rewritten in batches.

Drops Meta's `from` / `to` / user ids and a reply context's `from` from every payload, and moves
shared contact cards and system notices into `sealed_payload`, encrypted (inbox.payloads does the
same for new messages; the rule is copied here so this migration keeps meaning what it meant).
Not atomic: each batch is its own transaction over the partitioned table, and a re-run skips
rows already rewritten.
"""

import json

from django.db import migrations, models, transaction

import aerostic.core.fields

CONTEXT = "inbox.Message.sealed_payload"  # the field's AES-GCM associated data
BATCH = 1000
IDENTITY_KEYS = ("from", "to", "wa_id", "recipient_id", "from_user_id", "to_user_id", "recipient_user_id", "from_parent_user_id")
SEALED_KEYS = ("contacts", "system")

_SELECT = (
    "SELECT id, created_at, payload::text, sealed_payload FROM inbox_message"
    " WHERE id > %s AND (payload ?| %s OR payload->'context' ?| %s OR payload ?| %s)"
    " ORDER BY id LIMIT %s FOR UPDATE"
)
_UPDATE = (
    "UPDATE inbox_message AS message SET payload = new.payload::jsonb, sealed_payload = new.sealed"
    " FROM unnest(%s::bigint[], %s::timestamptz[], %s::text[], %s::text[]) AS new(id, created_at, payload, sealed)"
    " WHERE message.id = new.id AND message.created_at = new.created_at"
)


def _split(message: dict) -> tuple[dict, dict]:
    clear = {key: value for key, value in message.items() if key not in IDENTITY_KEYS and key not in SEALED_KEYS}
    if isinstance(message.get("context"), dict):
        clear["context"] = {key: value for key, value in message["context"].items() if key not in IDENTITY_KEYS}
    sealed = {key: message[key] for key in SEALED_KEYS if key in message}
    if isinstance(message.get("system"), dict) and isinstance(message["system"].get("type"), str):
        clear["system"] = {"type": message["system"]["type"]}
    return clear, sealed


def strip_numbers(apps, schema_editor):
    from aerostic.core import crypto
    from aerostic.core.tenant_context import platform_context

    connection = schema_editor.connection
    identity, sealed_keys = list(IDENTITY_KEYS), list(SEALED_KEYS)
    last_id = 0
    with platform_context("migration: message payloads without numbers"):
        while True:
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.execute(_SELECT, [last_id, identity, identity, sealed_keys, BATCH])
                rows = cursor.fetchall()
                if not rows:
                    return
                updates = []
                for pk, created_at, payload_text, already_sealed in rows:
                    payload = json.loads(payload_text)
                    if not isinstance(payload, dict):
                        continue
                    clear, sealed = _split(payload)
                    if clear.get("system") == payload.get("system") and not [k for k in sealed if k != "system"]:
                        # Only a system notice already reduced to its type: nothing left to seal.
                        sealed = {}
                    if sealed and already_sealed:
                        sealed = {**json.loads(crypto.decrypt(already_sealed, context=CONTEXT)), **sealed}
                    text = json.dumps(sealed, ensure_ascii=False, separators=(",", ":")) if sealed else None
                    updates.append(
                        (pk, created_at, json.dumps(clear), crypto.encrypt(text, context=CONTEXT) if text else already_sealed)
                    )
                if updates:
                    cursor.execute(_UPDATE, [list(column) for column in zip(*updates, strict=True)])
            last_id = rows[-1][0]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("inbox", "0004_customer_index_per_workspace"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="sealed_payload",
            field=aerostic.core.fields.EncryptedTextField(
                blank=True,
                help_text="Parts naming other people (shared contact cards, system notices), encrypted JSON",
                null=True,
            ),
        ),
        migrations.AlterField(
            model_name="message",
            name="payload",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="Meta's message object without numbers or ids of people (inbox.payloads)",
            ),
        ),
        # Irreversible in substance (the numbers are gone); going back only leaves the rows as they are.
        migrations.RunPython(strip_numbers, migrations.RunPython.noop),
    ]
