"""The message store fed by webhooks shaped as Meta sends them: every message type, statuses in any
order, re-deliveries, echoes; monthly partitions; tenant isolation of the partitioned table."""

import time
from datetime import date

import pytest
from django.db import connection

from aerostic.core.tenant_context import no_tenant_context, tenant_context
from aerostic.testsupport.webhooks import deliver_webhook
from inbox.models import Conversation, Message, MessageStatusEvent
from inbox.partitions import message_partitions_ensure, partition_name

pytestmark = pytest.mark.django_db


def _deliver(payload: dict) -> str:
    return deliver_webhook(payload).status


def _envelope(phone, value: dict, field: str = "messages") -> dict:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100100", "phone_number_id": phone.phone_number_id},
        **value,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": phone.account.waba_id, "changes": [{"value": value, "field": field}]}],
    }


def _inbound(kind: str, content, wamid: str, sender: str = "16505551234", ts: int | None = None) -> dict:
    message = {"from": sender, "id": wamid, "timestamp": str(ts or int(time.time())), "type": kind}
    if content is not None:
        message[kind] = content
    return {"contacts": [{"profile": {"name": "Kerry Fisher"}, "wa_id": sender}], "messages": [message]}


KINDS = [
    ("text", {"body": "Hello, is the shop open?"}),
    ("image", {"caption": "This is a caption", "mime_type": "image/jpeg", "sha256": "abc", "id": "1234"}),
    ("audio", {"mime_type": "audio/ogg; codecs=opus", "sha256": "x", "id": "1", "voice": True}),
    ("video", {"mime_type": "video/mp4", "sha256": "x", "id": "2"}),
    ("document", {"filename": "invoice.pdf", "mime_type": "application/pdf", "sha256": "x", "id": "3"}),
    ("sticker", {"mime_type": "image/webp", "sha256": "x", "id": "4", "animated": False}),
    ("location", {"latitude": 37.48, "longitude": -122.14, "name": "Philz Coffee"}),
    ("contacts", [{"name": {"formatted_name": "Ana"}, "phones": [{"phone": "+1 555 0100", "type": "CELL"}]}]),
    ("interactive", {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes"}}),
    ("interactive", {"type": "list_reply", "list_reply": {"id": "r1", "title": "Row 1"}}),
    ("button", {"payload": "STOP", "text": "Stop promotions"}),
    ("reaction", {"message_id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", "emoji": "👍"}),
    ("order", {"catalog_id": "1", "product_items": [{"product_retailer_id": "A", "quantity": 1}]}),
    ("system", {"body": "User changed number", "wa_id": "16505551235", "type": "user_changed_number"}),
    ("unsupported", None),
]


@pytest.mark.parametrize(("kind", "content"), KINDS, ids=[f"{k}-{i}" for i, (k, _) in enumerate(KINDS)])
def test_every_inbound_kind_is_stored_once_in_its_conversation(phone, alpha, kind, content):
    payload = _envelope(phone, _inbound(kind, content, f"wamid.{kind}.{id(content)}"))
    assert _deliver(payload) == "processed"
    assert _deliver(payload) == "processed"  # Meta re-delivers: nothing is stored twice
    with tenant_context(alpha.tenant):
        (message,) = Message.objects.all()
        conversation = Conversation.objects.get()
    assert (message.type, message.direction, message.status) == (kind, "in", "received")
    assert conversation.customer_name == "Kerry Fisher"
    assert conversation.window_expires_at is not None
    assert "16505551234" not in str(conversation.customer_index)


def test_text_body_is_kept_for_the_inbox(phone, alpha):
    _deliver(_envelope(phone, _inbound("text", {"body": "Where is my order?"}, "wamid.t1")))
    with tenant_context(alpha.tenant):
        assert Message.objects.get().body == "Where is my order?"


def _echo(wamid: str, sender: str = "15550100100") -> dict:
    """A message the business sent from the WhatsApp Business app (coexistence)."""
    return {
        "message_echoes": [
            {
                "from": sender,
                "to": "16505551234",
                "id": wamid,
                "timestamp": "1700000000",
                "type": "text",
                "text": {"body": "Hi from the phone"},
            }
        ]
    }


def _status(wamid: str, name: str, ts: int, **extra) -> dict:
    return {"statuses": [{"id": wamid, "status": name, "timestamp": str(ts), "recipient_id": "16505551234", **extra}]}


def test_statuses_out_of_order_never_move_a_message_backwards(phone, alpha):
    _deliver(_envelope(phone, _echo("wamid.out1"), field="smb_message_echoes"))
    pricing = {"billable": True, "pricing_model": "PMP", "category": "marketing", "type": "regular"}
    _deliver(_envelope(phone, _status("wamid.out1", "read", 1700000030)))
    _deliver(_envelope(phone, _status("wamid.out1", "delivered", 1700000020, pricing=pricing)))
    _deliver(_envelope(phone, _status("wamid.out1", "delivered", 1700000020, pricing=pricing)))
    with tenant_context(alpha.tenant):
        message = Message.objects.get()
        assert MessageStatusEvent.objects.filter(wamid="wamid.out1").count() == 2
    assert (message.direction, message.status, message.pricing_category) == ("out", "read", "marketing")
    assert message.delivered_at is not None and message.read_at is not None


def test_a_status_for_an_unknown_message_waits_and_applies_when_it_appears(phone, alpha):
    _deliver(_envelope(phone, _status("wamid.later", "delivered", 1700000020)))
    with tenant_context(alpha.tenant):
        assert MessageStatusEvent.objects.get().applied is False
    _deliver(_envelope(phone, _echo("wamid.later"), field="smb_message_echoes"))
    with tenant_context(alpha.tenant):
        assert Message.objects.get().status == "delivered"
        assert MessageStatusEvent.objects.get().applied is True


def test_failed_status_records_metas_error(phone, alpha):
    _deliver(_envelope(phone, _echo("wamid.f"), field="smb_message_echoes"))
    errors = [{"code": 131026, "title": "Message undeliverable", "error_data": {"details": "..."}}]
    _deliver(_envelope(phone, _status("wamid.f", "failed", 1700000010, errors=errors)))
    with tenant_context(alpha.tenant):
        message = Message.objects.get()
    assert (message.status, message.error_code) == ("failed", 131026)


def test_messages_land_in_their_monthly_partition(phone, alpha):
    message_partitions_ensure(today=date(2031, 1, 15), months_ahead=0)
    ts = int(time.mktime((2031, 1, 20, 12, 0, 0, 0, 0, 0)))
    _deliver(_envelope(phone, _inbound("text", {"body": "future"}, "wamid.p", ts=ts)))
    with tenant_context(alpha.tenant), connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM inbox_message WHERE wamid = 'wamid.p'")
        assert cursor.fetchone()[0] == partition_name(date(2031, 1, 1))


def test_partitioned_messages_are_invisible_without_a_tenant(phone, alpha):
    _deliver(_envelope(phone, _inbound("text", {"body": "secret"}, "wamid.rls")))
    with no_tenant_context(), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM inbox_message")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM inbox_message_default")
        assert cursor.fetchone()[0] == 0


def test_partition_creation_is_idempotent():
    first = message_partitions_ensure(today=date(2032, 5, 1), months_ahead=1)
    assert first == [partition_name(date(2032, 5, 1)), partition_name(date(2032, 6, 1))]
    assert message_partitions_ensure(today=date(2032, 5, 1), months_ahead=1) == []
