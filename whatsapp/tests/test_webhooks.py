"""Webhook intake and processing: signatures, size, malformed bodies, Redis down, routing,
re-delivery, retries to dead letter and replay; the simulator's webhooks through the real intake."""

import json
import time

import django_rq
import pytest
from django.test import Client

from aerostic.core.models import Alert
from aerostic.core.tenant_context import platform_context, tenant_context
from aerostic.testsupport.webhooks import meta_signature
from whatsapp.jobs import process_webhook_event, purge_webhook_events, sweep_pending_webhooks
from whatsapp.models import PhoneNumber, WebhookEvent
from whatsapp.webhooks.replay import webhook_replay

pytestmark = pytest.mark.django_db
URL = "/webhooks/meta/"


def _post(body: bytes | dict, *, secret: str | None = None, signature: str | None = None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    if signature is None:
        signature = meta_signature(raw, secret)
    headers = {"HTTP_X_HUB_SIGNATURE_256": signature} if signature else {}
    return Client().post(URL, raw, content_type="application/json", **headers)


def _events():
    with platform_context("test"):
        return list(WebhookEvent.all_tenants.order_by("id"))


def _quality_event(waba_id: str, display: str, event: str = "FLAGGED", limit: str = "TIER_1K") -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": waba_id,
                "time": 1748454394,
                "changes": [
                    {
                        "value": {"display_phone_number": display, "event": event, "current_limit": limit},
                        "field": "phone_number_quality_update",
                    }
                ],
            }
        ],
    }


def _process_all() -> list[str]:
    return [process_webhook_event(event_id=event.pk) for event in _events() if event.status == "pending"]


def test_subscription_verification_echoes_the_challenge(settings):
    ok = Client().get(
        URL,
        {
            "hub.mode": "subscribe",
            "hub.verify_token": settings.META_WEBHOOK_VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    assert ok.status_code == 200 and ok.content == b"1158201444"
    wrong = Client().get(URL, {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "x"})
    assert wrong.status_code == 403


@pytest.mark.parametrize("signature", ["", "sha256=" + "0" * 64, "md5=abc"], ids=["missing", "forged", "wrong-algo"])
def test_unsigned_or_forged_deliveries_are_refused_and_nothing_is_stored(signature):
    response = _post({"object": "whatsapp_business_account", "entry": []}, signature=signature or "")
    assert response.status_code == 401 and _events() == []


def test_signed_with_another_secret_is_refused():
    assert _post({"entry": []}, secret="not-the-app-secret").status_code == 401


def test_oversize_bodies_get_413(settings):
    settings.WEBHOOK_MAX_BYTES = 2048
    assert _post(b"{" + b" " * 4096 + b"}").status_code == 413 and _events() == []


def test_a_flood_of_unsigned_posts_never_refuses_a_signed_delivery(settings, one_rate_minute):
    settings.WEBHOOK_RATE_PER_MINUTE = 2
    assert [_post(b"{}", signature="").status_code for _ in range(4)] == [401, 401, 429, 429]
    signed = [_post({"object": "whatsapp_business_account", "entry": []}).status_code for _ in range(3)]
    assert signed == [200, 200, 200] and len(_events()) == 3


def test_signature_failures_behind_the_trusted_proxy_count_per_forwarded_client(settings, one_rate_minute):
    settings.WEBHOOK_RATE_PER_MINUTE = 1
    settings.TRUSTED_PROXY_COUNT = 1

    def unsigned_from(forwarded_for: str) -> int:
        return (
            Client().post(URL, b"{}", content_type="application/json", HTTP_X_FORWARDED_FOR=forwarded_for).status_code
        )

    assert [unsigned_from("6.6.6.6, 198.51.100.1"), unsigned_from("198.51.100.1")] == [401, 429]
    assert unsigned_from("198.51.100.2") == 401


def test_signed_malformed_json_is_kept_dead_and_acknowledged():
    response = _post(b'{"entry": [')
    assert response.status_code == 200
    (event,) = _events()
    assert event.status == "dead" and "malformed" in event.last_error


def test_a_valid_delivery_is_stored_pending_and_enqueued(simulator, connected):
    response = _post(_quality_event(connected.waba_id, "15550100100"))
    assert response.status_code == 200
    (event,) = _events()
    assert (event.status, event.fields) == ("pending", ["phone_number_quality_update"])
    assert django_rq.get_queue("webhooks").count == 1


def test_redis_down_at_intake_keeps_the_event_and_the_sweeper_enqueues_it_later(simulator, connected, settings):
    good_queues = settings.RQ_QUEUES
    settings.RQ_QUEUES = {name: {"URL": "redis://127.0.0.1:1/0"} for name in settings.QUEUE_NAMES}
    assert _post(_quality_event(connected.waba_id, "15550100100")).status_code == 200
    settings.RQ_QUEUES = good_queues
    (event,) = _events()
    assert event.status == "pending"
    with platform_context("test"):
        WebhookEvent.all_tenants.filter(pk=event.pk).update(received_at=event.received_at.replace(year=2020))
    assert sweep_pending_webhooks() == 1
    assert django_rq.get_queue("webhooks").count == 1


def test_quality_flag_updates_the_number_and_alerts_once_even_when_redelivered(simulator, connected, alpha):
    payload = _quality_event(connected.waba_id, "15550100100", limit="TIER_250")
    _post(payload)
    _post(payload)
    assert _process_all() == ["processed", "processed"]
    with tenant_context(alpha.tenant):
        phone = PhoneNumber.objects.get()
        assert (phone.quality_rating, phone.messaging_limit_tier) == ("RED", "TIER_250")
        assert Alert.objects.filter(resolved_at=None, level="critical").count() == 1
    assert {event.tenant_id for event in _events()} == {alpha.tenant.pk}


def test_quality_red_and_a_lowered_tier_alert_and_both_clear_when_meta_says_so(simulator, connected, alpha):
    with tenant_context(alpha.tenant):
        PhoneNumber.objects.update(messaging_limit_tier="TIER_1K")
    _post(_quality_event(connected.waba_id, "15550100100", event="FLAGGED", limit="TIER_250"))
    _process_all()
    with tenant_context(alpha.tenant):
        titles = sorted(Alert.objects.filter(resolved_at=None).values_list("title", flat=True))
    assert [title.split(": ", 1)[1] for title in titles] == [
        "messaging limit lowered to TIER_250",
        "quality rating is low (flagged by Meta)",
    ]
    _post(_quality_event(connected.waba_id, "15550100100", event="UNFLAGGED", limit="TIER_1K"))
    _process_all()
    with tenant_context(alpha.tenant):
        assert not Alert.objects.filter(resolved_at=None).exists()
        assert Alert.objects.exclude(resolved_at=None).count() == 2


def test_unknown_waba_and_unknown_field_are_ignored_with_a_reason(simulator, connected):
    _post(_quality_event("999999999", "15550100100"))
    _post(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": connected.waba_id, "changes": [{"field": "brand_new_kind", "value": {}}]}],
        }
    )
    assert _process_all() == ["ignored", "ignored"]
    reasons = [event.outcome["changes"][0]["reason"] for event in _events()]
    assert reasons == ["unknown phone number / WABA", "field 'brand_new_kind' is not handled"]


def test_every_change_of_a_batched_delivery_is_processed(simulator, connected, alpha):
    change = _quality_event(connected.waba_id, "15550100100")["entry"][0]
    name = {
        "field": "phone_number_name_update",
        "value": {
            "display_phone_number": "15550100100",
            "decision": "APPROVED",
            "requested_verified_name": "Demo Renamed",
        },
    }
    batched = {
        "object": "whatsapp_business_account",
        "entry": [change, {"id": connected.waba_id, "changes": [name, name]}],
    }
    _post(batched)
    _process_all()
    (event,) = _events()
    assert [c["field"] for c in event.outcome["changes"]] == [
        "phone_number_quality_update",
        "phone_number_name_update",
        "phone_number_name_update",
    ]
    with tenant_context(alpha.tenant):
        assert PhoneNumber.objects.get().verified_name == "Demo Renamed"


def test_malformed_changes_are_ignored_not_crashed(simulator, connected):
    _post({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": 5}, "junk"]})
    assert _process_all() == ["ignored"]


def test_partner_app_installed_goes_to_onboarding_matching(alpha):
    from whatsapp.models import OrphanConnection

    _post(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "2949482758682047",
                    "time": 1745337174,
                    "changes": [
                        {
                            "value": {
                                "event": "PARTNER_APP_INSTALLED",
                                "waba_info": {"waba_id": "1191624265890717", "owner_business_id": "2329417887457253"},
                            }
                        }
                    ],
                    "field": "account_update",
                }
            ],
        }
    )
    assert _process_all() == ["processed"]
    assert OrphanConnection.objects.get().waba_id == "1191624265890717"


def test_failures_retry_then_go_dead_and_a_replay_succeeds(simulator, connected, alpha, monkeypatch):
    from whatsapp.webhooks import handlers

    original = handlers.TENANT_HANDLERS["phone_number_quality_update"]

    def flaky(target, value):  # fault injection at the handler boundary: the database "fails"
        raise RuntimeError("deadlock detected")

    monkeypatch.setitem(handlers.TENANT_HANDLERS, "phone_number_quality_update", flaky)
    _post(_quality_event(connected.waba_id, "15550100100"))
    event_id = _events()[0].pk
    statuses = [process_webhook_event(event_id=event_id) for _ in range(3)]
    assert statuses == ["pending", "pending", "dead"]
    (event,) = _events()
    assert "deadlock detected" in event.last_error and event.attempts == 3
    with tenant_context(alpha.tenant):
        assert PhoneNumber.objects.get().quality_rating == "GREEN"  # the failed attempts changed nothing

    monkeypatch.setitem(handlers.TENANT_HANDLERS, "phone_number_quality_update", original)
    assert webhook_replay(event_ids=[event_id], actor=alpha.admin.user) == 1
    assert process_webhook_event(event_id=event_id) == "processed"
    with tenant_context(alpha.tenant):
        assert PhoneNumber.objects.get().quality_rating == "RED"


def test_a_processed_event_is_not_processed_again(simulator, connected):
    _post(_quality_event(connected.waba_id, "15550100100"))
    event_id = _events()[0].pk
    assert process_webhook_event(event_id=event_id) == "processed"
    assert process_webhook_event(event_id=event_id) is None


def test_old_events_are_purged(simulator, connected, settings):
    _post(_quality_event(connected.waba_id, "15550100100"))
    _process_all()
    with platform_context("test"):
        WebhookEvent.all_tenants.update(received_at=_events()[0].received_at.replace(year=2020))
    assert purge_webhook_events() == 1


def test_admin_lists_dead_events_and_replays_them(alpha):
    from accounts.models import User

    _post(b"{broken")
    staff = User.objects.create_superuser(email="ops@platform.test", password="a-long-passphrase-1")
    client = Client()
    client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    assert b"Dead webhook events" in client.get("/admin/").content
    event = _events()[0]
    assert client.get(f"/admin/whatsapp/webhookevent/{event.pk}/change/").status_code == 200
    response = client.post("/admin/whatsapp/webhookevent/", {"action": "replay", "_selected_action": [event.pk]})
    assert response.status_code == 302
    assert _events()[0].status == "pending"


@pytest.mark.django_db(transaction=True)
def test_the_simulators_signed_webhooks_flow_through_the_intake(live_server, simulator, alpha):
    from whatsapp.connections.connect import sandbox_connect

    account = sandbox_connect(tenant=alpha.tenant, actor=alpha.admin.user)
    simulator.webhooks.url = f"{live_server.url}{URL}"
    with tenant_context(alpha.tenant):
        phone_id = account.phone_numbers.get().phone_number_id
    simulator.quality_change(phone_id, quality="RED")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not _events():
        time.sleep(0.1)
    simulator.webhooks._session.close()  # release the live server's keep-alive thread (and its DB session)
    (event,) = _events()
    assert process_webhook_event(event_id=event.pk) == "processed"
    with tenant_context(alpha.tenant):
        assert PhoneNumber.objects.get().quality_rating == "RED"


def test_a_second_job_for_an_event_being_processed_does_nothing(simulator, connected):
    """Exactly once: while one worker holds the event, a duplicate job (sweeper, re-enqueue) skips it."""
    import psycopg
    from django.db import connection

    from whatsapp.webhooks.batches import LOCK_NAMESPACE as WEBHOOK_LOCK_NAMESPACE

    _post(_quality_event(connected.waba_id, "15550100100"))
    (event,) = _events()
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(**params, autocommit=True) as other_worker:
        other_worker.execute("SELECT pg_advisory_lock(%s)", [WEBHOOK_LOCK_NAMESPACE + event.pk])
        assert process_webhook_event(event_id=event.pk) is None
        (event,) = _events()
        assert (event.status, event.attempts) == ("pending", 0)
        # Released explicitly: a closing connection's backend may still hold it for a moment.
        other_worker.execute("SELECT pg_advisory_unlock(%s)", [WEBHOOK_LOCK_NAMESPACE + event.pk])
    assert process_webhook_event(event_id=event.pk) == "processed"


def test_an_event_left_processing_by_a_killed_worker_is_swept_and_finished(simulator, connected):
    _post(_quality_event(connected.waba_id, "15550100100"))
    (event,) = _events()
    django_rq.get_queue("webhooks").empty()
    with platform_context("test"):  # the worker claimed it, then died before its transaction ended
        WebhookEvent.all_tenants.filter(pk=event.pk).update(
            status="processing", attempts=1, received_at=event.received_at.replace(year=2020)
        )
    assert sweep_pending_webhooks() == 1
    assert process_webhook_event(event_id=event.pk) == "processed"
    (event,) = _events()
    assert event.attempts == 2


def test_every_worker_sweeps_the_event_store_as_it_starts(simulator, connected, settings, monkeypatch):
    from django_rq.workers import get_worker_class

    from aerostic import worker

    settings.RQ_QUEUES = {name: {"URL": "redis://127.0.0.1:1/0"} for name in settings.QUEUE_NAMES}
    _post(_quality_event(connected.waba_id, "15550100100"))  # Redis down: kept pending, not enqueued
    settings.RQ_QUEUES = {name: {"URL": settings.REDIS_URL} for name in settings.QUEUE_NAMES}
    assert get_worker_class() is worker.SweepingWorker
    assert worker.sweep_on_start() == 1  # no need to wait for the five-minute sweep
    assert django_rq.get_queue("webhooks").count == 1

    calls = []
    monkeypatch.setattr(worker, "sweep_on_start", lambda: calls.append(1) or 0)
    queue = django_rq.get_queue("low")
    worker.SweepingWorker([queue], connection=queue.connection).work(burst=True)
    assert calls == [1]


def test_deliveries_are_drained_in_batches_by_a_bounded_number_of_jobs(simulator, connected, alpha, settings):
    from whatsapp.jobs import drain_webhook_events
    from whatsapp.webhooks.ready import DRAINER_KEY, READY_KEY

    settings.WEBHOOK_DRAINERS = 1
    for _ in range(3):
        assert _post(_quality_event(connected.waba_id, "15550100100")).status_code == 200
    queue = django_rq.get_queue("webhooks")
    (job,) = queue.jobs  # one drainer for three deliveries
    assert queue.connection.llen(READY_KEY) == 3
    assert job.func is drain_webhook_events or job.func_name.endswith("drain_webhook_events")
    assert drain_webhook_events(**job.kwargs) == 3
    assert [event.status for event in _events()] == ["processed"] * 3
    assert not queue.connection.exists(f"{DRAINER_KEY}1")  # the slot is free for the next delivery
    _post(_quality_event(connected.waba_id, "15550100100"))
    assert len(queue.jobs) == 2


def test_ids_lost_from_redis_are_found_again_by_the_sweeper(simulator, connected):
    from whatsapp.webhooks.ready import READY_KEY

    _post(_quality_event(connected.waba_id, "15550100100"))
    queue = django_rq.get_queue("webhooks")
    queue.connection.delete(READY_KEY)  # Redis restarted without persistence, or a drainer died
    (event,) = _events()
    with platform_context("test"):
        WebhookEvent.all_tenants.filter(pk=event.pk).update(received_at=event.received_at.replace(year=2020))
    assert sweep_pending_webhooks() == 1
    assert [int(i) for i in queue.connection.lrange(READY_KEY, 0, -1)] == [event.pk]
