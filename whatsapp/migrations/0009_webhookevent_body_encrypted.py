"""Raw webhook bodies encrypted at rest: the column stays text, existing rows are sealed in batches.

Not atomic: each batch of rows is its own transaction, so a large event store (30 days of Meta's
deliveries) is not rewritten under one long lock, and an interrupted run can be started again
(rows already sealed are skipped). Stop the web tier first: an old intake still writing plaintext
after this ran would leave bodies processing cannot read.
"""

from django.db import migrations, transaction

import aerostic.core.fields

CONTEXT = "whatsapp.WebhookEvent.body"  # the field's AES-GCM associated data
BATCH = 1000

_SELECT = "SELECT id, body FROM whatsapp_webhookevent WHERE id > %s ORDER BY id LIMIT %s FOR UPDATE"
_UPDATE = (
    "UPDATE whatsapp_webhookevent AS event SET body = sealed.body"
    " FROM unnest(%s::bigint[], %s::text[]) AS sealed(id, body) WHERE event.id = sealed.id"
)


def _rewrite(schema_editor, convert) -> None:
    from aerostic.core.tenant_context import platform_context

    connection = schema_editor.connection
    last_id = 0
    with platform_context("migration: webhook bodies encrypted at rest"):
        while True:
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.execute(_SELECT, [last_id, BATCH])
                rows = cursor.fetchall()
                if not rows:
                    return
                changed = [(pk, new) for pk, body in rows if (new := convert(body)) is not None]
                if changed:
                    cursor.execute(_UPDATE, [[pk for pk, _ in changed], [new for _, new in changed]])
            last_id = rows[-1][0]


def encrypt_bodies(apps, schema_editor):
    from aerostic.core import crypto

    _rewrite(schema_editor, lambda body: None if crypto.is_ciphertext(body) else crypto.encrypt(body, context=CONTEXT))


def decrypt_bodies(apps, schema_editor):
    from aerostic.core import crypto

    _rewrite(schema_editor, lambda body: crypto.decrypt(body, context=CONTEXT) if crypto.is_ciphertext(body) else None)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("whatsapp", "0008_onboarding_session_waba_business"),
    ]

    operations = [
        migrations.AlterField(
            model_name="webhookevent",
            name="body",
            field=aerostic.core.fields.EncryptedTextField(help_text="The raw JSON Meta sent, encrypted"),
        ),
        migrations.RunPython(encrypt_bodies, decrypt_bodies),
    ]
