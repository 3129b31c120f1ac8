"""outbound_store_many: what the campaign engine sent, stored in the inbox a chunk at a time — the
same rows as outbound_store one message after another, in a number of statements that does not
grow with the chunk."""

import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from aerostic.core.tenant_context import NoTenantContext, tenant_context
from contacts.tests.factories import ContactFactory
from inbox import outbound
from inbox.models import Conversation, Message, MessageKey, MessageStatusEvent
from inbox.outbound import outbound_store, outbound_store_many
from inbox.statuses import status_record
from whatsapp.fanout import SentItem

pytestmark = pytest.mark.django_db

TEMPLATE = {"type": "template", "template": {"name": "spring_sale", "language": {"code": "en"}}}


def _customer(n: int) -> str:
    return f"1650555{n:04d}"


def _items(count: int, *, start: int = 0, prefix: str = "wamid.c", **extra) -> list[SentItem]:
    return [
        SentItem(to=_customer(start + n), wamid=f"{prefix}{start + n}", content=TEMPLATE, **extra) for n in range(count)
    ]


def _waiting_status(wamid: str, name: str = "delivered", **extra) -> None:
    status = {"id": wamid, "status": name, "timestamp": str(int(time.time())), **extra}
    assert status_record(status=status) == "waiting"


def test_stores_each_item_creating_missing_conversations_and_reusing_existing_ones(phone, alpha):
    with tenant_context(alpha.tenant):
        outbound_store(phone=phone, to=_customer(0), wamid="wamid.earlier", content=TEMPLATE)
        existing = Conversation.objects.get()

        assert outbound_store_many(phone=phone, items=_items(5)) == 5

        conversations = {c.customer_wa_id.reveal(): c for c in Conversation.objects.all()}
        assert sorted(conversations) == [_customer(n) for n in range(5)]
        assert conversations[_customer(0)].pk == existing.pk
        for n in range(5):
            message = Message.objects.get(wamid=f"wamid.c{n}")
            conversation = conversations[_customer(n)]
            assert message.conversation_id == conversation.pk
            assert (message.direction, message.status, message.type) == ("out", "sent", "template")
            assert message.sent_at == message.created_at
            assert conversation.last_message_at == message.created_at


def _snapshot() -> dict:
    """Every stored field that does not depend on when or in which order rows were made."""
    conversations = {}
    for conversation in Conversation.objects.all():
        row = {
            field.attname: getattr(conversation, field.attname)
            for field in Conversation._meta.concrete_fields
            if field.name not in ("id", "created_at", "customer_wa_id")
        }
        row["customer_wa_id"] = conversation.customer_wa_id.reveal()
        conversations[conversation.pk] = row
    messages = {}
    for message in Message.objects.all():
        row = {
            field.attname: getattr(message, field.attname)
            for field in Message._meta.concrete_fields
            if field.name not in ("id", "conversation")
        }
        row["customer"] = conversations[message.conversation_id]["customer_wa_id"]
        messages[message.wamid] = row
    keys = {key.wamid: key.created_at for key in MessageKey.objects.all()}
    events = sorted(MessageStatusEvent.objects.values_list("wamid", "status", "applied"))
    return {
        "conversations": sorted(conversations.values(), key=lambda row: row["customer_wa_id"]),
        "messages": messages,
        "keys": keys,
        "events": events,
    }


def test_result_equals_outbound_store_one_message_after_another(phone, alpha, monkeypatch):
    # One clock for both runs: outbound_store stamps each message with the current second.
    now = str(int(time.time()))
    monkeypatch.setattr(outbound, "_now_timestamp", lambda: now)
    pricing = {"billable": True, "pricing_model": "PMP", "category": "marketing", "type": "regular"}
    with tenant_context(alpha.tenant):
        linked, other = ContactFactory(tenant=alpha.tenant), ContactFactory(tenant=alpha.tenant)
        outbound_store(phone=phone, to=_customer(1), wamid="wamid.before", content=TEMPLATE, contact=other)
        _waiting_status("wamid.priced", pricing=pricing)
        _waiting_status("wamid.categorised", "read", pricing=pricing)
        items = [
            SentItem(
                to=_customer(1), wamid="wamid.known", content=TEMPLATE, category="MARKETING", contact_id=linked.pk
            ),
            SentItem(to=f"+{_customer(2)}", wamid="wamid.text", content={"type": "text", "text": {"body": "Hi"}}),
            SentItem(to=_customer(2), wamid="wamid.priced", content=TEMPLATE, contact_id=linked.pk),
            SentItem(to=_customer(3), wamid="wamid.categorised", content=TEMPLATE, category="UTILITY"),
            SentItem(to=_customer(4), wamid="wamid.before", content=TEMPLATE, contact_id=linked.pk),
            SentItem(to=_customer(5), wamid="", content=TEMPLATE, contact_id=other.pk),
            SentItem(to="", wamid="wamid.nobody", content=TEMPLATE),
        ]

        with transaction.atomic():
            for item in items:
                contact = linked if item.contact_id == linked.pk else other if item.contact_id else None
                outbound_store(
                    phone=phone,
                    to=item.to,
                    wamid=item.wamid,
                    content=item.content,
                    category=item.category,
                    contact=contact,
                )
            one_by_one = _snapshot()
            transaction.set_rollback(True)

        assert outbound_store_many(phone=phone, items=items) == 4
        assert _snapshot() == one_by_one

    assert one_by_one["messages"]["wamid.priced"]["pricing_category"] == "marketing"
    assert one_by_one["messages"]["wamid.categorised"]["pricing_category"] == "UTILITY"
    assert one_by_one["messages"]["wamid.categorised"]["status"] == "read"
    assert one_by_one["messages"]["wamid.text"]["body"] == "Hi"
    # A duplicate wamid or an empty one still gets its conversation and contact, as in outbound_store.
    contacts = {row["customer_wa_id"]: row["contact_id"] for row in one_by_one["conversations"]}
    assert contacts == {
        _customer(1): other.pk,
        _customer(2): linked.pk,
        _customer(3): None,
        _customer(4): linked.pk,
        _customer(5): other.pk,
    }


def test_a_wamid_already_stored_or_twice_in_the_call_is_stored_once(phone, alpha):
    with tenant_context(alpha.tenant):
        outbound_store(phone=phone, to=_customer(0), wamid="wamid.c0", content=TEMPLATE)
        items = _items(3) + [SentItem(to=_customer(9), wamid="wamid.c2", content=TEMPLATE)]

        assert outbound_store_many(phone=phone, items=items) == 2
        assert outbound_store_many(phone=phone, items=items) == 0

        stored = sorted(Message.objects.values_list("wamid", flat=True))
        assert stored == ["wamid.c0", "wamid.c1", "wamid.c2"]
        first_wins = Message.objects.select_related("conversation").get(wamid="wamid.c2")
        assert first_wins.conversation.customer_wa_id.reveal() == _customer(2)  # the first item wins
        for key in MessageKey.objects.all():  # every key points at its message and its partition
            assert Message.objects.filter(pk=key.message_id, created_at=key.created_at, wamid=key.wamid).exists()


def test_contact_is_linked_when_the_conversation_has_none(phone, alpha):
    with tenant_context(alpha.tenant):
        first, second, kept = (ContactFactory(tenant=alpha.tenant) for _ in range(3))
        outbound_store(phone=phone, to=_customer(2), wamid="wamid.old", content=TEMPLATE, contact=kept)
        items = [
            SentItem(to=_customer(0), wamid="wamid.a", content=TEMPLATE, contact_id=first.pk),
            SentItem(to=_customer(0), wamid="wamid.b", content=TEMPLATE, contact_id=second.pk),
            SentItem(to=_customer(1), wamid="wamid.c", content=TEMPLATE),
            SentItem(to=_customer(2), wamid="wamid.d", content=TEMPLATE, contact_id=second.pk),
        ]

        outbound_store_many(phone=phone, items=items)

        contacts = {c.customer_wa_id.reveal(): c.contact_id for c in Conversation.objects.all()}
    assert contacts == {_customer(0): first.pk, _customer(1): None, _customer(2): kept.pk}


def test_a_status_received_before_the_store_is_applied(phone, alpha):
    errors = [{"code": 131026, "title": "Message undeliverable"}]
    with tenant_context(alpha.tenant):
        _waiting_status("wamid.c1")
        _waiting_status("wamid.c2", "failed", errors=errors)

        outbound_store_many(phone=phone, items=_items(3))

        delivered, failed = Message.objects.get(wamid="wamid.c1"), Message.objects.get(wamid="wamid.c2")
        assert (delivered.status, failed.status, failed.error_code) == ("delivered", "failed", 131026)
        assert delivered.delivered_at is not None and failed.failed_at is not None
        assert Message.objects.get(wamid="wamid.c0").status == "sent"
        assert not MessageStatusEvent.objects.filter(applied=False).exists()
        # A status arriving afterwards finds the message through its key.
        assert status_record(status={"id": "wamid.c1", "status": "read", "timestamp": str(int(time.time()))}) == (
            "applied"
        )
        assert Message.objects.get(wamid="wamid.c1").status == "read"


def _queries(phone, items: list[SentItem]) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert outbound_store_many(phone=phone, items=items) == len(items)
    return len(queries)


def test_number_of_queries_does_not_grow_with_the_chunk(phone, alpha):
    with tenant_context(alpha.tenant):
        contact = ContactFactory(tenant=alpha.tenant)
        # Worst case: new customers, a contact to link and a status waiting for one message.
        _waiting_status("wamid.one0")
        _waiting_status("wamid.many107")
        one = _queries(phone, _items(1, prefix="wamid.one", contact_id=contact.pk))
        many = _queries(phone, _items(50, start=100, prefix="wamid.many", contact_id=contact.pk))
        _waiting_status("wamid.many-again107")
        known = _queries(phone, _items(50, start=100, prefix="wamid.many-again"))
        assert Message.objects.count() == 101
    assert one == many <= 9
    assert known <= many


def test_another_tenants_number_is_refused(phone, alpha, bravo):
    with tenant_context(bravo.tenant), pytest.raises(NoTenantContext):
        outbound_store_many(phone=phone, items=_items(1))


def test_nothing_to_store(phone, alpha):
    with tenant_context(alpha.tenant), CaptureQueriesContext(connection) as queries:
        assert outbound_store_many(phone=phone, items=[]) == 0
        assert outbound_store_many(phone=phone, items=[SentItem(to="", wamid="wamid.x", content=TEMPLATE)]) == 0
    assert len(queries) == 0
