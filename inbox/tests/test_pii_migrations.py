"""The data migrations of PII at rest, run over rows written the old way: webhook bodies in plain
text become ciphertexts, message payloads lose their numbers (contact cards sealed), in batches."""

import json
from importlib import import_module

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from aerostic.core.tenant_context import platform_context, tenant_context
from inbox.conversations import conversation_for
from inbox.models import Conversation, Message
from inbox.payloads import sealed_parts
from whatsapp.models import WebhookEvent

pytestmark = pytest.mark.django_db

CUSTOMER = "16505551234"
CARD = "14125550829"
BODY = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "from": CUSTOMER}]})
BEFORE = [("whatsapp", "0008_onboarding_session_waba_business"), ("inbox", "0004_customer_index_per_workspace")]
AFTER = [("whatsapp", "0009_webhookevent_body_encrypted"), ("inbox", "0005_message_payload_without_numbers")]


def _migrate(targets) -> None:
    with connection.cursor() as cursor:
        # The test's one transaction holds deferred foreign-key checks, which ALTER TABLE refuses to
        # run under; a real migrate has none pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


def _legacy_message(conversation: Conversation, wamid: str, payload: dict) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO inbox_message (id, tenant_id, conversation_id, direction, type, wamid, body, payload, status,"
            " error_title, pricing_category, pricing, created_at)"
            " VALUES (nextval('inbox_message_id_seq'), %s, %s, 'in', %s, %s, '', %s::jsonb, 'received', '', '',"
            " '{}'::jsonb, now())",
            [conversation.tenant_id, conversation.pk, payload["type"], wamid, json.dumps(payload)],
        )


def test_old_rows_are_encrypted_and_stripped_by_the_migrations(phone, alpha, monkeypatch):
    with tenant_context(alpha.tenant):
        conversation = conversation_for(phone=phone, customer_wa_id=CUSTOMER)
    _migrate(BEFORE)
    # Two batches of one row each show the keyset paging.
    monkeypatch.setattr(import_module("whatsapp.migrations.0009_webhookevent_body_encrypted"), "BATCH", 1)
    with platform_context("test: legacy rows"), connection.cursor() as cursor:
        for _ in range(2):
            cursor.execute(
                "INSERT INTO whatsapp_webhookevent (body, received_at, status, fields, attempts, last_error, outcome)"
                " VALUES (%s, now(), 'processed', '[]'::jsonb, 1, '', '{}'::jsonb)",
                [BODY],
            )
    cards = [{"name": {"formatted_name": "Ana"}, "phones": [{"phone": f"+{CARD}", "wa_id": CARD}]}]
    with tenant_context(alpha.tenant):
        _legacy_message(
            conversation,
            "wamid.legacy.text",
            {
                "from": CUSTOMER,
                "id": "wamid.legacy.text",
                "type": "text",
                "text": {"body": "Hi"},
                "context": {"from": "1", "id": "w"},
            },
        )
        _legacy_message(
            conversation,
            "wamid.legacy.card",
            {"from": CUSTOMER, "id": "wamid.legacy.card", "type": "contacts", "contacts": cards},
        )

    _migrate(AFTER)

    with platform_context("test: raw read"), connection.cursor() as cursor:
        cursor.execute("SELECT body FROM whatsapp_webhookevent ORDER BY id")
        bodies = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT payload::text, sealed_payload FROM inbox_message ORDER BY id")
        messages = cursor.fetchall()
    assert len(bodies) == 2 and all(CUSTOMER not in body and body.startswith("v1.") for body in bodies)
    with platform_context("test"):
        assert {event.body.reveal() for event in WebhookEvent.all_tenants.all()} == {BODY}
    assert all(CUSTOMER not in payload and CARD not in payload for payload, _ in messages)
    with tenant_context(alpha.tenant):
        text, card = Message.objects.order_by("id")
    assert text.payload == {"id": "wamid.legacy.text", "type": "text", "text": {"body": "Hi"}, "context": {"id": "w"}}
    assert text.sealed_payload is None
    assert card.payload == {"id": "wamid.legacy.card", "type": "contacts"}
    assert sealed_parts(card) == {"contacts": cards}
