"""Webhook events processed in batches (whatsapp/webhooks/batches.py): statuses and inbound
messages of many deliveries applied together in a constant number of statements, the same result
as one by one, a poison event retried alone, a drainer killed or a database lost mid-batch."""

from __future__ import annotations

import json

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from aerostic.core.tenant_context import platform_context, tenant_context
from aerostic.testsupport.webhooks import meta_signature
from inbox.models import Message, MessageStatusEvent
from inbox.outbound import outbound_store_many
from whatsapp.fanout import SentItem
from whatsapp.jobs import sweep_pending_webhooks
from whatsapp.models import WebhookEvent
from whatsapp.webhooks import handlers
from whatsapp.webhooks.batches import process_events

pytestmark = pytest.mark.django_db
CUSTOMER = "919812345621"
T0 = 1_760_000_000


def _post(payload: dict) -> None:
    from django.test import Client

    raw = json.dumps(payload).encode()
    response = Client().post(
        "/webhooks/meta/", raw, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=meta_signature(raw)
    )
    assert response.status_code == 200


def _messages_change(phone, **value) -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": phone.account.waba_id,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550100100",
                                "phone_number_id": phone.phone_number_id,
                            },
                            **value,
                        },
                    }
                ],
            }
        ],
    }


def _status(wamid: str, name: str, at: int) -> dict:
    return {"id": wamid, "status": name, "timestamp": str(at), "recipient_id": CUSTOMER}


def _sent(phone, count: int, prefix: str) -> list[str]:
    """Outbound messages stored as the send path stores them; their wamids."""
    wamids = [f"wamid.{prefix}.{n}" for n in range(count)]
    with tenant_context(phone.tenant_id):
        outbound_store_many(
            phone=phone,
            items=[SentItem(to=CUSTOMER, wamid=w, content={"type": "text", "text": {"body": "hi"}}) for w in wamids],
        )
    return wamids


def _event_ids() -> list[int]:
    with platform_context("test"):
        return list(WebhookEvent.all_tenants.filter(status="pending").order_by("pk").values_list("pk", flat=True))


def _events() -> list[WebhookEvent]:
    with platform_context("test"):
        return list(WebhookEvent.all_tenants.order_by("pk"))


def _deliver_statuses(phone, wamids: list[str]) -> None:
    for n, wamid in enumerate(wamids):  # one status per POST, the way Meta sends most of them
        for offset, name in enumerate(("sent", "delivered", "read")):
            _post(_messages_change(phone, statuses=[_status(wamid, name, T0 + n + offset)]))


def test_a_batch_of_statuses_costs_the_same_statements_for_5_or_40_messages(phone):
    counts = []
    for size, prefix in ((5, "small"), (40, "large")):
        wamids = _sent(phone, size, prefix)
        _deliver_statuses(phone, wamids)
        ids = _event_ids()
        assert len(ids) == 3 * size
        with CaptureQueriesContext(connection) as queries:
            assert process_events(ids) == {"processed": 3 * size}
        counts.append(len(queries))
        with tenant_context(phone.tenant_id):
            stored = Message.objects.filter(wamid__in=wamids)
            assert [m.status for m in stored] == ["read"] * size
            assert all(m.delivered_at and m.read_at for m in stored)
            assert MessageStatusEvent.objects.filter(wamid__in=wamids, applied=True).count() == 3 * size
    assert counts[1] == counts[0], counts  # not one more statement for 8 times the deliveries


def test_statuses_of_one_message_arriving_in_any_order_in_one_batch_end_at_the_furthest(phone):
    [wamid] = _sent(phone, 1, "order")
    for name, at in (("read", T0 + 3), ("delivered", T0 + 2), ("sent", T0 + 1), ("delivered", T0 + 2)):
        _post(_messages_change(phone, statuses=[_status(wamid, name, at)]))
    process_events(_event_ids())
    with tenant_context(phone.tenant_id):
        message = Message.objects.get(wamid=wamid)
        assert message.status == "read"
        assert (message.delivered_at.timestamp(), message.read_at.timestamp()) == (T0 + 2, T0 + 3)
        assert MessageStatusEvent.objects.filter(wamid=wamid).count() == 3  # the re-delivery kept once
    outcomes = [event.outcome["changes"][0]["statuses"] for event in _events()]
    assert outcomes == [{"applied": 1}, {"applied": 1}, {"applied": 1}, {"duplicate": 1}]


def test_inbound_messages_and_statuses_of_many_deliveries_are_stored_once(phone):
    wamids = _sent(phone, 3, "mixed")
    for n in range(10):
        message = {"from": f"91981234{n:04d}", "id": f"wamid.in.{n}", "timestamp": str(T0 + n), "type": "text",
                   "text": {"body": f"order {n}?"}}  # fmt: skip
        contacts = [{"profile": {"name": f"Customer {n}"}, "wa_id": message["from"]}]
        _post(_messages_change(phone, contacts=contacts, messages=[message]))
    _post(_messages_change(phone, messages=[{"from": "919812340003", "id": "wamid.in.3", "timestamp": str(T0 + 3),
                                            "type": "text", "text": {"body": "order 3?"}}]))  # fmt: skip
    _post(_messages_change(phone, statuses=[_status(w, "delivered", T0 + 20) for w in wamids]))
    assert process_events(_event_ids()) == {"processed": 12}
    with tenant_context(phone.tenant_id):
        assert Message.objects.filter(direction="in").count() == 10
        assert Message.objects.filter(wamid__in=wamids, status="delivered").count() == 3
    outcomes = [event.outcome["changes"][0] for event in _events()]
    assert [o["stored"] for o in outcomes[:10]] == [1] * 10
    assert (outcomes[10]["stored"], outcomes[10]["duplicates"]) == (0, 1)
    assert outcomes[11]["statuses"] == {"applied": 3}
    assert {event.tenant_id for event in _events()} == {phone.tenant_id}


def test_a_poison_event_leaves_the_rest_of_its_batch_processed_and_is_retried_alone(phone, monkeypatch):
    import django_rq

    wamids = _sent(phone, 20, "poison")
    for wamid in wamids:
        _post(_messages_change(phone, statuses=[_status(wamid, "delivered", T0)]))
    real_apply = handlers.messages_apply

    def apply(phone, changes):
        if any(status["id"] == wamids[7] for change in changes for status in change.statuses):
            raise RuntimeError("poison")
        return real_apply(phone, changes)

    monkeypatch.setattr(handlers, "messages_apply", apply)
    assert process_events(_event_ids()) == {"processed": 19, "pending": 1}
    events = _events()
    poisoned = events[7]
    assert (poisoned.status, poisoned.attempts, poisoned.last_error) == ("pending", 1, "RuntimeError: poison")
    assert [e.status for e in events[:7] + events[8:]] == ["processed"] * 19
    assert django_rq.get_queue("webhooks").scheduled_job_registry.count == 1  # its retry, alone
    for _ in range(2):  # the retries fail too: dead after the third attempt, alone
        process_events([poisoned.pk])
    assert _events()[7].status == "dead"
    with tenant_context(phone.tenant_id):
        assert Message.objects.filter(wamid__in=wamids, status="delivered").count() == 19


def test_a_drainer_killed_mid_batch_leaves_its_events_to_the_sweeper_and_they_apply_once(phone, monkeypatch):
    wamids = _sent(phone, 5, "killed")
    _deliver_statuses(phone, wamids)
    ids = _event_ids()

    def killed(phone, changes):
        raise SystemExit("kill -9")  # not an Exception: nothing catches it, as nothing survives a kill

    monkeypatch.setattr(handlers, "messages_apply", killed)
    with pytest.raises(SystemExit):
        process_events(ids)
    monkeypatch.undo()
    assert {(e.status, e.attempts) for e in _events()} == {("processing", 1)}
    with tenant_context(phone.tenant_id):
        assert not MessageStatusEvent.objects.filter(wamid__in=wamids).exists()  # the batch rolled back
    with platform_context("test"):
        WebhookEvent.all_tenants.update(received_at="2020-01-01T00:00:00Z")
    assert sweep_pending_webhooks() == 15
    assert process_events(ids) == {"processed": 15}
    with tenant_context(phone.tenant_id):
        assert MessageStatusEvent.objects.filter(wamid__in=wamids).count() == 15
        assert Message.objects.filter(wamid__in=wamids, status="read").count() == 5


def _lose_the_connection_in(monkeypatch, *, stays_down: bool) -> None:
    real_apply = handlers.messages_apply
    calls = []

    def lost(phone, changes):
        calls.append(1)
        if len(calls) == 1:
            connection.connection.close()  # Postgres restarted under the batch's open transaction
        if stays_down:
            monkeypatch.setattr(
                connection, "get_new_connection", lambda params: (_ for _ in ()).throw(OperationalError("down"))
            )
        return real_apply(phone, changes)

    monkeypatch.setattr(handlers, "messages_apply", lost)


@pytest.mark.django_db(transaction=True)
def test_postgres_restarted_mid_batch_rolls_it_back_and_each_event_is_then_applied_once(phone, monkeypatch):
    wamids = _sent(phone, 4, "pgback")
    _deliver_statuses(phone, wamids)
    _lose_the_connection_in(monkeypatch, stays_down=False)
    assert process_events(_event_ids()) == {"processed": 12}  # one by one, on a new connection
    with tenant_context(phone.tenant_id):
        assert MessageStatusEvent.objects.filter(wamid__in=wamids).count() == 12
        assert Message.objects.filter(wamid__in=wamids, status="read").count() == 4


@pytest.mark.django_db(transaction=True)
def test_postgres_down_mid_batch_loses_nothing_and_the_sweeper_finishes_the_batch(phone, monkeypatch):
    wamids = _sent(phone, 4, "pgdown")
    _deliver_statuses(phone, wamids)
    ids = _event_ids()
    _lose_the_connection_in(monkeypatch, stays_down=True)
    with pytest.raises(Exception):  # noqa: B017 - psycopg's or Django's, whichever notices first
        process_events(ids)
    monkeypatch.undo()
    connection.close()  # Postgres is back: the next query reconnects, as a worker's next job would
    events = _events()
    assert {(e.status, e.attempts) for e in events} == {("processing", 1)}  # none dead, none half-applied
    with tenant_context(phone.tenant_id):
        assert not MessageStatusEvent.objects.filter(wamid__in=wamids).exists()
    with platform_context("test"):
        WebhookEvent.all_tenants.update(received_at="2020-01-01T00:00:00Z")
    assert sweep_pending_webhooks() == 12
    assert process_events(ids) == {"processed": 12}
    with tenant_context(phone.tenant_id):
        assert MessageStatusEvent.objects.filter(wamid__in=wamids).count() == 12
        assert Message.objects.filter(wamid__in=wamids, status="read").count() == 4


@pytest.fixture
def own_redis(tmp_path, settings):
    """A Redis server of this test's own (the suite's is shared), which the test restarts."""
    from devstack.services import EmbeddedRedis

    server = EmbeddedRedis(tmp_path / "redis", persistent=False)
    url = server.start()
    settings.RQ_QUEUES = {name: {**config, "URL": url} for name, config in settings.RQ_QUEUES.items()}
    yield server
    server.stop()


def test_redis_lost_mid_batch_the_batch_is_applied_and_the_sweeper_hands_over_the_rest(
    phone, own_redis, monkeypatch, settings
):
    from whatsapp.webhooks import batches, ready

    wamids = _sent(phone, 4, "redislost")
    _deliver_statuses(phone, wamids)  # 12 ids on the ready list of the Redis under test
    settings.WEBHOOK_BATCH_SIZE = 5
    real_process = batches.process_events
    restarted = []

    def process_then_lose_redis(ids):
        if not restarted:
            own_redis.stop()  # the server goes away with the ready list while the batch is in hand
            restarted.append(1)
        return real_process(ids)

    monkeypatch.setattr(batches, "process_events", process_then_lose_redis)
    assert ready.drain(1) == 5  # the batch in hand is applied; the drainer stops cleanly
    own_redis.start()  # back, empty: the other 7 ids are gone with the old server
    assert [e.status for e in _events()].count("processed") == 5
    with platform_context("test"):
        WebhookEvent.all_tenants.filter(status="pending").update(received_at="2020-01-01T00:00:00Z")
    assert sweep_pending_webhooks() == 7
    monkeypatch.undo()
    assert ready.drain(1) == 7
    assert {e.status for e in _events()} == {"processed"}
    with tenant_context(phone.tenant_id):
        assert MessageStatusEvent.objects.filter(wamid__in=wamids).count() == 12
        assert Message.objects.filter(wamid__in=wamids, status="read").count() == 4
