"""Stored message payloads name nobody: Meta's `from` / `to` / ids leave the JSON (the customer lives
encrypted on the conversation), shared contact cards and system notices are kept encrypted — for
every writer: inbound, echoes, history sync, the dispatcher's outbound_store, the campaign engine's
outbound_store_many."""

import json
import secrets
import time
from io import StringIO

import pytest
from django.db import connection

from aerostic.core.tenant_context import tenant_context
from aerostic.testsupport.webhooks import deliver_webhook
from inbox.models import Conversation, Message
from inbox.outbound import outbound_store, outbound_store_many
from inbox.payloads import sealed_parts
from whatsapp.fanout import SentItem

pytestmark = pytest.mark.django_db

CUSTOMER = "16505551234"
BUSINESS = "15550100100"
CARD_NUMBER = "14125550829"
NEW_NUMBER = "12195555358"
NUMBERS = (CUSTOMER, BUSINESS, CARD_NUMBER, NEW_NUMBER, "4155550829")
TEMPLATE = {"type": "template", "template": {"name": "spring_sale", "language": {"code": "en"}}}


def _envelope(phone, value: dict, field: str = "messages") -> dict:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": BUSINESS, "phone_number_id": phone.phone_number_id},
        **value,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": phone.account.waba_id, "changes": [{"value": value, "field": field}]}],
    }


def _inbound(phone, message: dict) -> None:
    message = {"from": CUSTOMER, "timestamp": str(int(time.time())), **message}
    value = {"contacts": [{"profile": {"name": "Kerry"}, "wa_id": CUSTOMER}], "messages": [message]}
    assert deliver_webhook(_envelope(phone, value)).status == "processed"


def _stored_rows() -> list[str]:
    """Every message row as the database holds it, all columns as text."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(m)::text FROM inbox_message m ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def _assert_no_numbers(alpha) -> None:
    with tenant_context(alpha.tenant):
        rows = _stored_rows()
    assert rows
    for row in rows:
        for number in NUMBERS:
            assert number not in row


def test_an_inbound_reply_keeps_what_the_inbox_shows_but_no_number(phone, alpha):
    _inbound(
        phone,
        {
            "id": "wamid.in.1",
            "type": "text",
            "text": {"body": "Where is my order?"},
            "context": {"from": BUSINESS, "id": "wamid.earlier"},
        },
    )

    with tenant_context(alpha.tenant):
        message = Message.objects.get()
        conversation = Conversation.objects.get()
    assert message.payload == {
        "id": "wamid.in.1",
        "timestamp": message.payload["timestamp"],
        "type": "text",
        "text": {"body": "Where is my order?"},
        "context": {"id": "wamid.earlier"},
    }
    assert conversation.customer_wa_id.reveal() == CUSTOMER  # the number lives here, encrypted
    _assert_no_numbers(alpha)


def test_a_shared_contact_card_is_kept_encrypted(phone, alpha):
    cards = [
        {
            "name": {"first_name": "Barbara", "formatted_name": "Barbara J. Johnson"},
            "phones": [{"phone": "+1 (415) 555-0829", "wa_id": CARD_NUMBER, "type": "MOBILE"}],
        }
    ]
    _inbound(phone, {"id": "wamid.card", "type": "contacts", "contacts": cards})

    with tenant_context(alpha.tenant):
        message = Message.objects.get()
        rows = _stored_rows()
    assert message.type == "contacts" and "contacts" not in message.payload
    assert sealed_parts(message) == {"contacts": cards}
    assert "Barbara" not in rows[0]
    _assert_no_numbers(alpha)


def test_a_changed_number_notice_keeps_only_its_kind_in_the_clear(phone, alpha):
    system = {
        "body": f"User Sheena Nelson changed from {CUSTOMER} to {NEW_NUMBER}",
        "wa_id": NEW_NUMBER,
        "type": "user_changed_number",
    }
    _inbound(phone, {"id": "wamid.sys", "type": "system", "system": system})

    with tenant_context(alpha.tenant):
        message = Message.objects.get()
    assert message.payload["system"] == {"type": "user_changed_number"}
    assert sealed_parts(message) == {"system": system}
    _assert_no_numbers(alpha)


def test_echoes_and_history_keep_no_number(phone, alpha):
    echo = {"from": BUSINESS, "to": CUSTOMER, "id": "wamid.echo", "timestamp": "1700000000", "type": "text"}
    deliver_webhook(_envelope(phone, {"message_echoes": [{**echo, "text": {"body": "Hi"}}]}, "smb_message_echoes"))
    thread = {
        "id": CUSTOMER,
        "messages": [
            {"from": CUSTOMER, "id": "wamid.h1", "timestamp": "1700000001", "type": "text", "text": {"body": "Yo"}},
            {"from": BUSINESS, "id": "wamid.h2", "timestamp": "1700000002", "type": "text", "text": {"body": "Hey"}},
        ],
    }
    deliver_webhook(_envelope(phone, {"history": [{"threads": [thread]}]}, "history"))

    with tenant_context(alpha.tenant):
        directions = dict(Message.objects.values_list("wamid", "direction"))
    assert directions == {"wamid.echo": "out", "wamid.h1": "in", "wamid.h2": "out"}
    _assert_no_numbers(alpha)


def test_outbound_messages_keep_no_recipient(phone, alpha):
    with tenant_context(alpha.tenant):
        outbound_store(phone=phone, to=CUSTOMER, wamid="wamid.one", content=TEMPLATE)
        outbound_store_many(phone=phone, items=[SentItem(to=CARD_NUMBER, wamid="wamid.many", content=TEMPLATE)])
        payloads = dict(Message.objects.values_list("wamid", "payload"))
        recipients = sorted(c.customer_wa_id.reveal() for c in Conversation.objects.all())
    assert {wamid: {k: v for k, v in p.items() if k != "timestamp"} for wamid, p in payloads.items()} == {
        "wamid.one": {**TEMPLATE, "id": "wamid.one"},
        "wamid.many": {**TEMPLATE, "id": "wamid.many"},
    }
    assert recipients == sorted([CUSTOMER, CARD_NUMBER])
    _assert_no_numbers(alpha)


def test_an_outbound_contact_card_is_sealed_like_an_inbound_one(phone, alpha):
    cards = [{"name": {"formatted_name": "Ana"}, "phones": [{"phone": f"+{CARD_NUMBER}"}]}]
    with tenant_context(alpha.tenant):
        stored = outbound_store(
            phone=phone, to=CUSTOMER, wamid="wamid.card.out", content={"type": "contacts", "contacts": cards}
        )
        message = Message.objects.get(pk=stored.pk)
    assert sealed_parts(message) == {"contacts": cards}
    assert json.dumps(message.payload).count("Ana") == 0
    _assert_no_numbers(alpha)


def test_key_rotation_reencrypts_sealed_parts(phone, alpha, settings):
    from django.core.management import call_command

    cards = [{"name": {"formatted_name": "Ana"}, "phones": [{"phone": f"+{CARD_NUMBER}", "wa_id": CARD_NUMBER}]}]
    _inbound(phone, {"id": "wamid.card.rot", "type": "contacts", "contacts": cards})
    new_key = f"new:{secrets.token_urlsafe(32)}"
    settings.TOKEN_ENCRYPTION_KEYS = f"{new_key},{settings.TOKEN_ENCRYPTION_KEYS}"

    call_command("rotate_encryption_keys", stdout=StringIO())

    settings.TOKEN_ENCRYPTION_KEYS = new_key
    with tenant_context(alpha.tenant):
        message = Message.objects.get()
    assert message.sealed_payload.key_id == "new" and sealed_parts(message) == {"contacts": cards}
