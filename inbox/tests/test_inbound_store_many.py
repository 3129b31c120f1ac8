"""inbound_store_many: the customers' messages of a webhook batch stored a batch at a time — the rows
inbound_store gives one message after another, in a number of statements that does not grow with
the batch, and a conversation that concurrent batches never move backwards."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from aerostic.core.tenant_context import NoTenantContext, tenant_context
from compliance.models import ConsentEvent
from compliance.services import keyword_apply_many
from contacts.models import Contact
from contacts.phones import customer_index
from inbox.conversations import SERVICE_WINDOW
from inbox.inbound import inbound_store, inbound_store_many
from inbox.models import Conversation, Message, MessageKey
from whatsapp.fanout import InboundItem

pytestmark = pytest.mark.django_db

T0 = 1748844000  # 2025-06-02 06:00 UTC
KNOWN, LATE, NEW, NOTICE = "16505550001", "16505550002", "16505550003", "16505550004"


def _at(offset: int) -> datetime:
    return datetime.fromtimestamp(T0 + offset, tz=UTC)


def _text(sender: str, wamid: str, offset: int, body: str = "Hello") -> dict:
    return {"from": sender, "id": wamid, "timestamp": str(T0 + offset), "type": "text", "text": {"body": body}}


def _conversation(phone, *, wa_id: str = "", user_id: str = "") -> Conversation:
    index = customer_index(tenant=phone.tenant_id, wa_id=wa_id, user_id=user_id)
    return Conversation.objects.get(phone_number=phone, customer_index=index)


def _contact(wa_id: str) -> Contact:
    (contact,) = (contact for contact in Contact.objects.all() if contact.phone.reveal() == f"+{wa_id}")
    return contact


def test_a_mixed_batch_gives_the_rows_of_one_message_after_another(phone, alpha):
    with tenant_context(alpha.tenant):
        # Given two customers who wrote before; LATE's last message is newer than the batch's.
        inbound_store(phone=phone, message=_text(KNOWN, "wamid.k1", 100), profile_name="Old name")
        inbound_store(phone=phone, message=_text(LATE, "wamid.l1", 500), profile_name="Lee")
        Conversation.objects.update(status=Conversation.Status.RESOLVED)
        known_contact = _contact(KNOWN)
        notice = {
            "from": NOTICE,
            "id": "wamid.s1",
            "timestamp": str(T0 + 320),
            "type": "system",
            "system": {"body": "User changed number", "wa_id": "16505559999", "type": "user_changed_number"},
        }
        username_only = {"from_user_id": "US.123", "id": "wamid.u1", "timestamp": str(T0 + 310), "type": "text"}
        items = [
            InboundItem(_text(KNOWN, "wamid.k2", 200, "Hello again"), "Kay"),
            InboundItem(_text(KNOWN, "wamid.k3", 150, "older, delivered later")),
            InboundItem(_text(NEW, "wamid.n1", 300, "STOP"), "Nia"),
            InboundItem(_text(NEW, "wamid.n1", 300, "STOP"), "Nia N."),  # twice in the batch
            InboundItem(_text(KNOWN, "wamid.k1", 100)),  # stored before: a re-delivery
            InboundItem({**username_only, "text": {"body": "hi"}}, "Uma"),
            InboundItem(notice),
            InboundItem(_text(LATE, "wamid.l2", 400), "Lee"),  # older than what LATE sent before
            InboundItem({"id": "wamid.nobody", "timestamp": str(T0), "type": "text"}),  # names no sender
            InboundItem(_text(NEW, "", 330)),  # no wamid
        ]

        # When the batch is stored, then its keywords applied.
        stored = inbound_store_many(phone=phone, items=items)
        events = keyword_apply_many(messages=[message for message in stored if message is not None])

        # Then each position holds its message, or None for what one call after another would refuse.
        assert [message and message.wamid for message in stored] == [
            "wamid.k2",
            "wamid.k3",
            "wamid.n1",
            None,
            None,
            "wamid.u1",
            "wamid.s1",
            "wamid.l2",
            None,
            None,
        ]
        rows = {message.wamid: message for message in Message.objects.all()}
        assert sorted(rows) == ["wamid.k1", "wamid.k2", "wamid.k3", "wamid.l1", "wamid.l2", "wamid.n1", "wamid.s1"] + [
            "wamid.u1"
        ]
        for message in filter(None, stored):
            row = rows[message.wamid]
            assert (row.direction, row.status, row.conversation_id) == ("in", "received", message.conversation_id)
            assert (
                row.created_at == message.created_at == datetime.fromtimestamp(int(message.payload["timestamp"]), UTC)
            )
            assert MessageKey.objects.get(wamid=message.wamid).message_id == row.pk
            assert "from" not in row.payload and "from_user_id" not in row.payload
        assert (rows["wamid.k2"].body, rows["wamid.n1"].body, rows["wamid.s1"].type) == (
            "Hello again",
            "STOP",
            "system",
        )
        # Ids follow the order of arrival (messages of the same second keep it).
        ids = [rows[wamid].pk for wamid in ("wamid.k2", "wamid.k3", "wamid.n1", "wamid.u1", "wamid.s1", "wamid.l2")]
        assert ids == sorted(ids)

        known = _conversation(phone, wa_id=KNOWN)
        assert (known.customer_name, known.status, known.contact_id) == ("Kay", "open", known_contact.pk)
        assert (known.last_message_at, known.last_inbound_at) == (_at(200), _at(200))  # k3 came later but is older
        assert known.window_expires_at == _at(200) + SERVICE_WINDOW

        new = _conversation(phone, wa_id=NEW)
        new_contact = _contact(NEW)
        assert (new.customer_wa_id.reveal(), new.customer_name, new.contact_id) == (NEW, "Nia N.", new_contact.pk)
        assert (new.last_message_at, new.last_inbound_at, new.status) == (_at(300), _at(300), "open")
        assert (new_contact.name, new_contact.source, new_contact.last_inbound_at) == ("Nia", "inbound", _at(300))

        user = _conversation(phone, user_id="US.123")
        assert (user.customer_wa_id.reveal(), user.customer_user_id, user.customer_name) == ("", "US.123", "Uma")
        assert (user.contact_id, user.last_inbound_at, user.status) == (None, _at(310), "open")

        system = _conversation(phone, wa_id=NOTICE)
        assert (system.contact_id, system.last_inbound_at, system.window_expires_at) == (
            None,
            _at(320),
            _at(320) + SERVICE_WINDOW,
        )

        late = _conversation(phone, wa_id=LATE)
        assert (late.last_message_at, late.last_inbound_at, late.status) == (_at(500), _at(500), "resolved")
        assert late.window_expires_at == _at(500) + SERVICE_WINDOW

        assert Conversation.objects.count() == 5  # the message naming no sender made none
        # Contacts: the system notice's sender and the user behind a username got none.
        assert sorted(contact.phone.reveal() for contact in Contact.objects.all()) == [
            f"+{KNOWN}",
            f"+{LATE}",
            f"+{NEW}",
        ]
        assert _contact(KNOWN).last_inbound_at == _at(200)
        assert (_contact(KNOWN).name, _contact(LATE).last_inbound_at) == ("Old name", _at(500))

        # The STOP opted its sender out, once.
        assert [event and (event.kind, event.contact_id, event.dedupe_key) for event in events] == [
            None,
            None,
            ("opt_out", new_contact.pk, "keyword:wamid.n1"),
            None,
            None,
            None,
        ]
        assert ConsentEvent.objects.get().occurred_at == _at(300)
        assert _contact(NEW).consent_state == "opted_out"

        # The returned objects carry what was stored, for the keyword replies that follow.
        assert stored[2].conversation.contact_id == new_contact.pk
        assert stored[0].conversation.last_inbound_at == _at(200)

        # And the whole batch re-delivered stores nothing and moves nothing.
        before = list(Conversation.objects.order_by("pk").values())
        assert inbound_store_many(phone=phone, items=items) == [None] * len(items)
        assert Message.objects.count() == 8
        assert list(Conversation.objects.order_by("pk").values()) == before


def test_a_newer_profile_name_renames_the_conversation_even_on_a_redelivery(phone, alpha):
    with tenant_context(alpha.tenant):
        inbound_store(phone=phone, message=_text(KNOWN, "wamid.k1", 100), profile_name="Kay")

        stored = inbound_store_many(
            phone=phone,
            items=[
                InboundItem(_text(KNOWN, "wamid.k1", 100), "Kay Fisher"),
                InboundItem(_text(KNOWN, "wamid.k1", 100)),
            ],
        )

        assert stored == [None, None]
        assert _conversation(phone, wa_id=KNOWN).customer_name == "Kay Fisher"
        assert _contact(KNOWN).name == "Kay"  # a contact's name is the first one it got


def test_an_older_message_delivered_later_leaves_the_window_as_the_newer_one_set(phone, alpha):
    with tenant_context(alpha.tenant):
        inbound_store_many(phone=phone, items=[InboundItem(_text(KNOWN, "wamid.new", 200))])
        inbound_store_many(phone=phone, items=[InboundItem(_text(KNOWN, "wamid.old", 100))])

        conversation = _conversation(phone, wa_id=KNOWN)
        assert (conversation.last_message_at, conversation.last_inbound_at) == (_at(200), _at(200))
        assert conversation.window_expires_at == _at(200) + SERVICE_WINDOW
        assert _contact(KNOWN).last_inbound_at == _at(200)


def _customer(n: int) -> str:
    return f"1650556{n:04d}"


def _queries(phone, items: list[InboundItem]) -> int:
    with CaptureQueriesContext(connection) as queries:
        stored = inbound_store_many(phone=phone, items=items)
    assert all(message is not None for message in stored)
    return len(queries)


def _batch(known: str, size: int, *, start: int, offset: int) -> list[InboundItem]:
    """A message of a customer who wrote before, then messages of customers `start`… (new the
    first time they are named)."""
    return [InboundItem(_text(known, f"wamid.{known}.{offset}", offset), "Known")] + [
        InboundItem(_text(_customer(n), f"wamid.c{n}.{offset}", offset), f"Customer {n}")
        for n in range(start, start + size - 1)
    ]


def test_number_of_statements_does_not_grow_with_the_batch(phone, alpha):
    with tenant_context(alpha.tenant):
        # Every statement in play: known and new conversations, known contacts to bring forward
        # and new ones to create, and whether the AI answers on the number (inbox.ai.intake).
        inbound_store(phone=phone, message=_text(KNOWN, "wamid.k0", 0))
        inbound_store(phone=phone, message=_text(LATE, "wamid.l0", 0))
        few = _queries(phone, _batch(KNOWN, 5, start=0, offset=10))
        many = _queries(phone, _batch(LATE, 200, start=100, offset=10))
        known = _queries(phone, _batch(LATE, 200, start=100, offset=20))
        assert Message.objects.count() == 2 + 5 + 200 + 200
    assert few == many <= 11
    assert known < many  # customers who wrote before: nothing to create


def test_nothing_to_store_costs_no_statement(phone, alpha):
    with tenant_context(alpha.tenant), CaptureQueriesContext(connection) as queries:
        assert inbound_store_many(phone=phone, items=[]) == []
        assert inbound_store_many(phone=phone, items=[InboundItem({"id": "wamid.x", "type": "text"})]) == [None]
    assert len(queries) == 0


def test_another_tenants_number_is_refused(phone, alpha, bravo):
    with tenant_context(bravo.tenant), pytest.raises(NoTenantContext):
        inbound_store_many(phone=phone, items=[InboundItem(_text(KNOWN, "wamid.k1", 0))])


def test_a_batch_reading_the_conversation_before_a_newer_one_writes_it_does_not_move_it_back(phone, alpha, monkeypatch):
    """The decision is the database's, against the row as it is when the UPDATE runs: a batch that
    read the conversation before another batch stored a newer message keeps the newer values."""
    from inbox import inbound

    with tenant_context(alpha.tenant):
        inbound_store(phone=phone, message=_text(KNOWN, "wamid.k0", 0))
        claim = inbound.claim_wamids
        newer_first = iter([True])

        def claim_after_a_newer_batch(tenant_id, claims):
            # The older batch has read its conversation; a newer batch stores its message now.
            if next(newer_first, False):
                inbound_store_many(phone=phone, items=[InboundItem(_text(KNOWN, "wamid.newer", 300), "Newer")])
            return claim(tenant_id, claims)

        monkeypatch.setattr(inbound, "claim_wamids", claim_after_a_newer_batch)
        (older,) = inbound_store_many(phone=phone, items=[InboundItem(_text(KNOWN, "wamid.older", 100))])

        conversation = _conversation(phone, wa_id=KNOWN)
        assert (conversation.last_message_at, conversation.last_inbound_at) == (_at(300), _at(300))
        assert conversation.window_expires_at == _at(300) + SERVICE_WINDOW
        assert older.conversation.last_inbound_at == _at(300)  # the object took the stored values
        assert _contact(KNOWN).last_inbound_at == _at(300)


def _wait_for_a_lock_wait() -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.02)
    raise AssertionError("the second batch never waited for the first one's locks")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_batches_with_out_of_order_times_leave_the_newest_values(phone, alpha):
    """Two drainers' transactions, the newer batch committing last... or first: the newest wins."""
    with tenant_context(alpha.tenant):
        inbound_store(phone=phone, message=_text(KNOWN, "wamid.k0", 0))
        inbound_store(phone=phone, message=_text(LATE, "wamid.l0", 0))
    newer_written, release_newer = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def run(items: list[InboundItem], *, hold: bool) -> None:
        try:
            with tenant_context(alpha.tenant), transaction.atomic():
                inbound_store_many(phone=phone, items=items)
                if hold:
                    newer_written.set()
                    assert release_newer.wait(10)
        except BaseException as error:  # reported by the test's thread
            errors.append(error)
            newer_written.set()
        finally:
            connections.close_all()

    # KNOWN: the newer batch writes first and commits while the older one waits on its locks.
    # LATE: the same batches, in the other order of commits.
    newer = [InboundItem(_text(KNOWN, "wamid.k-new", 300), "Newer"), InboundItem(_text(LATE, "wamid.l-old", 100))]
    older = [InboundItem(_text(KNOWN, "wamid.k-old", 100), "Older"), InboundItem(_text(LATE, "wamid.l-new", 300))]
    first = threading.Thread(target=run, args=(newer,), kwargs={"hold": True})
    first.start()
    assert newer_written.wait(10)
    second = threading.Thread(target=run, args=(older,), kwargs={"hold": False})
    second.start()
    _wait_for_a_lock_wait()  # the second batch read the conversations and waits for the first's locks
    release_newer.set()
    first.join(10)
    second.join(10)
    assert not errors, errors
    with tenant_context(alpha.tenant):
        for wa_id in (KNOWN, LATE):
            conversation = _conversation(phone, wa_id=wa_id)
            assert (conversation.last_message_at, conversation.last_inbound_at) == (_at(300), _at(300)), wa_id
            assert conversation.window_expires_at == _at(300) + timedelta(hours=24)
            assert _contact(wa_id).last_inbound_at == _at(300)
        assert Message.objects.count() == 6


def test_insert_rows_writes_what_bulk_create_writes(phone, alpha):
    """aerostic.core.sqlrows.insert_rows (the bulk stores' INSERT): every column as bulk_create
    writes it, the encrypted one sealed and readable, JSON kept as JSON."""
    from aerostic.core.sqlrows import insert_rows

    with tenant_context(alpha.tenant):
        inbound_store(phone=phone, message=_text(KNOWN, "wamid.first", 0))
        conversation = _conversation(phone, wa_id=KNOWN)

        def row(message_id: int, wamid: str) -> Message:
            MessageKey.objects.create(tenant_id=alpha.tenant.pk, wamid=wamid, message_id=message_id, created_at=_at(0))
            return Message(
                id=message_id,
                tenant_id=alpha.tenant.pk,
                conversation=conversation,
                direction=Message.Direction.INBOUND,
                type="contacts",
                wamid=wamid,
                body="Hello ✓ 'quoted' \\ back",
                payload={"type": "contacts", "nested": {"list": [1, "two", None]}},
                sealed_payload='{"contacts": [{"name": "Ann"}]}',
                status=Message.Status.RECEIVED,
                error_code=131051,
                error_title="Unsupported",
                created_at=_at(0),
            )

        Message.objects.bulk_create([row(900_001, "wamid.orm")])
        insert_rows(Message, [row(900_002, "wamid.rows")])
        ignored = {"id", "wamid"}
        fields = [f.attname for f in Message._meta.concrete_fields if f.attname not in ignored]
        by_orm, by_rows = (Message.objects.filter(wamid=w).values(*fields).get() for w in ("wamid.orm", "wamid.rows"))
    sealed = [row.pop("sealed_payload").reveal() for row in (by_orm, by_rows)]
    assert by_rows == by_orm
    assert sealed == ['{"contacts": [{"name": "Ann"}]}'] * 2
    assert by_rows["payload"]["nested"] == {"list": [1, "two", None]}
