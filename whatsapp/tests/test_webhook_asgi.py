"""The webhook intake as the web tier runs it (aerostic.asgi under uvicorn workers): the same rules
as the view, on the event loop, against the real Postgres and Redis."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import psycopg
import pytest
from django.core.asgi import get_asgi_application
from django.db import connection

from aerostic.core import crypto, queues
from aerostic.core.tenant_context import platform_context, tenant_context
from aerostic.testsupport.webhooks import meta_signature
from whatsapp.jobs import process_webhook_event
from whatsapp.models import PhoneNumber, WebhookEvent
from whatsapp.webhooks import asgi, intake, ready
from whatsapp.webhooks.asgi import WebhookIntake

pytestmark = pytest.mark.django_db(transaction=True)


def _exchange(
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    chunks: int = 1,
    query: bytes = b"",
) -> tuple[int, dict[str, str], bytes]:
    """One request through a fresh intake (its pools belong to this event loop), then closed."""
    header_list = [(b"host", b"testserver")] + [
        (name.lower().encode(), value.encode()) for name, value in (headers or {}).items()
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": header_list,
        "client": ("203.0.113.9", 40000),
        "server": ("testserver", 80),
    }
    size = max(1, -(-len(body) // chunks))
    parts = [body[index : index + size] for index in range(0, len(body), size)] or [b""]
    incoming = [
        {"type": "http.request", "body": part, "more_body": index < len(parts) - 1} for index, part in enumerate(parts)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def run() -> None:
        intake = WebhookIntake(get_asgi_application())
        try:
            await intake(scope, receive, send)
        finally:
            await intake.close()

    asyncio.run(run())
    start = next(message for message in sent if message["type"] == "http.response.start")
    content = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, content


def _post(raw: bytes, *, signature: str | None = None, **kwargs: Any) -> tuple[int, dict[str, str], bytes]:
    headers = {"content-type": "application/json", "content-length": str(len(raw))}
    if signature is None:
        signature = meta_signature(raw)
    if signature:
        headers["x-hub-signature-256"] = signature
    headers.update(kwargs.pop("headers", {}))
    return _exchange("POST", "/webhooks/meta/", raw, headers, **kwargs)


def _events() -> list[WebhookEvent]:
    with platform_context("test"):
        return list(WebhookEvent.all_tenants.order_by("id"))


def _message(wamid: str, phone_id: str) -> bytes:
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "0",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {"display_phone_number": "15550100100", "phone_number_id": phone_id},
                                "contacts": [{"profile": {"name": "Asha"}, "wa_id": "919812345621"}],
                                "messages": [
                                    {
                                        "from": "919812345621",
                                        "id": wamid,
                                        "timestamp": "1748454394",
                                        "type": "text",
                                        "text": {"body": "Hello"},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()


@pytest.fixture(autouse=True)
def _empty_ready_list():
    redis = queues.redis_connection()
    redis.delete(ready.READY_KEY, *(f"{ready.DRAINER_KEY}{slot}" for slot in range(1, 10)))
    yield
    redis.delete(ready.READY_KEY)


def test_a_signed_delivery_is_stored_pending_handed_over_and_processed(simulator, connected, alpha):
    with tenant_context(alpha.tenant):
        phone = PhoneNumber.objects.get(account=connected)
    status, headers, content = _post(_message("wamid.asgi.1", phone.phone_number_id), chunks=3)

    assert (status, json.loads(content)) == (200, {"received": True})
    assert headers["content-length"] == str(len(content))
    [event] = _events()
    assert (event.status, event.attempts, event.fields, event.tenant_id) == ("pending", 0, ["messages"], None)
    assert queues.redis_connection().lrange(ready.READY_KEY, 0, -1) == [str(event.pk).encode()]
    assert process_webhook_event(event_id=event.pk) == "processed"


def test_the_stored_body_is_encrypted_no_number_or_text_in_the_table(simulator, connected, alpha):
    with tenant_context(alpha.tenant):
        phone = PhoneNumber.objects.get(account=connected)
    status, _, _ = _post(_message("wamid.asgi.secret", phone.phone_number_id))

    assert status == 200
    with platform_context("test: raw read"), connection.cursor() as cursor:
        cursor.execute("SELECT body FROM whatsapp_webhookevent")
        [(stored,)] = cursor.fetchall()
    assert "919812345621" not in stored and "Hello" not in stored and stored.startswith("v1.")
    [event] = _events()
    assert process_webhook_event(event_id=event.pk) == "processed"
    assert (
        json.loads(event.body.reveal())["entry"][0]["changes"][0]["value"]["messages"][0]["id"] == "wamid.asgi.secret"
    )


@pytest.mark.parametrize("signature", ["", "sha256=" + "0" * 64, "md5=abc"])
def test_unsigned_or_forged_deliveries_get_401_and_nothing_is_stored(signature):
    status, _, content = _post(b'{"object": "whatsapp_business_account"}', signature=signature)
    assert status == 401 and json.loads(content) == {"error": "Invalid signature."}
    assert _events() == []


def test_every_answer_is_counted_for_metrics_by_status():
    from prometheus_client import REGISTRY

    def counted(status: str) -> float:
        return REGISTRY.get_sample_value("aerostic_webhook_deliveries_total", {"status": status}) or 0.0

    before = counted("401")
    for _ in range(3):
        assert _post(b'{"object": "whatsapp_business_account"}', signature="")[0] == 401
    assert counted("401") == before + 3
    group = {"group": "webhooks", "status": "4xx"}
    assert (REGISTRY.get_sample_value("aerostic_http_request_duration_seconds_count", group) or 0) >= 3


def test_a_body_signed_with_another_secret_is_refused():
    raw = b'{"object": "whatsapp_business_account"}'
    assert _post(raw, signature=meta_signature(raw, "not-the-app-secret"))[0] == 401
    assert _events() == []


def test_oversize_bodies_get_413_whether_declared_or_streamed(settings):
    settings.WEBHOOK_MAX_BYTES = 2048
    raw = b'{"pad": "' + b"x" * 4096 + b'"}'
    assert _post(raw)[0] == 413
    # No Content-Length (chunked upload): the limit holds while reading.
    assert _exchange("POST", "/webhooks/meta/", raw, {"x-hub-signature-256": meta_signature(raw)}, chunks=4)[0] == 413
    assert _events() == []


def test_signed_malformed_json_is_kept_dead_and_acknowledged():
    status, _, _ = _post(b"{not json")
    [event] = _events()
    assert status == 200
    assert (event.status, event.body.reveal(), event.last_error) == (
        "dead",
        "{not json",
        "malformed body: JSONDecodeError",
    )
    assert queues.redis_connection().llen(ready.READY_KEY) == 0


def test_the_limit_counts_signature_failures_per_address_and_answers_429_above_it(settings, one_rate_minute):
    settings.WEBHOOK_RATE_PER_MINUTE = 2
    unsigned = [_post(b"{}", signature="")[0] for _ in range(4)]
    assert unsigned == [401, 401, 429, 429]
    assert _events() == []


def test_a_flood_of_unsigned_posts_never_refuses_a_signed_delivery(settings, one_rate_minute):
    settings.WEBHOOK_RATE_PER_MINUTE = 2
    for _ in range(5):
        _post(b"{}", signature="")
    raw = b'{"object": "whatsapp_business_account", "entry": []}'
    assert [_post(raw)[0] for _ in range(3)] == [200, 200, 200]
    assert len(_events()) == 3


def test_signature_failures_behind_the_trusted_proxy_count_per_forwarded_client(settings, one_rate_minute):
    settings.WEBHOOK_RATE_PER_MINUTE = 1
    settings.TRUSTED_PROXY_COUNT = 1
    first = [_post(b"{}", signature="", headers={"x-forwarded-for": "6.6.6.6, 198.51.100.1"})[0] for _ in range(2)]
    second = _post(b"{}", signature="", headers={"x-forwarded-for": "198.51.100.2"})[0]
    assert (first, second) == ([401, 429], 401)


def test_a_spoofed_forwarded_for_without_trusted_proxies_shares_the_socket_address_budget(settings, one_rate_minute):
    settings.WEBHOOK_RATE_PER_MINUTE = 1
    settings.TRUSTED_PROXY_COUNT = 0
    answers = [_post(b"{}", signature="", headers={"x-forwarded-for": f"198.51.100.{n}"})[0] for n in range(3)]
    assert answers == [401, 429, 429]


def test_repeated_forwarded_for_headers_resolve_as_django_joins_them(settings):
    from whatsapp.webhooks.asgi import _client_ip

    settings.TRUSTED_PROXY_COUNT = 1
    scope = {
        "client": ("10.0.0.5", 40000),
        "headers": [(b"x-forwarded-for", b"6.6.6.6"), (b"host", b"testserver"), (b"X-Forwarded-For", b"198.51.100.7")],
    }
    assert _client_ip(scope) == "198.51.100.7"
    settings.TRUSTED_PROXY_COUNT = 0
    assert _client_ip(scope) == "10.0.0.5"


def _stalled_body(first_part: bytes):
    """A receive() that sends the start of a body and then nothing (a slow-loris sender)."""
    parts = [{"type": "http.request", "body": first_part, "more_body": True}]

    async def receive() -> dict[str, Any]:
        if parts:
            return parts.pop(0)
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    return receive


def _complete_body(raw: bytes):
    parts = [{"type": "http.request", "body": raw, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if parts:
            return parts.pop(0)
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    return receive


def _scope(raw: bytes) -> dict[str, Any]:
    headers = [
        (b"host", b"testserver"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(raw)).encode()),
        (b"x-hub-signature-256", meta_signature(raw).encode()),
    ]
    return {
        "type": "http",
        "method": "POST",
        "scheme": "http",
        "path": "/webhooks/meta/",
        "headers": headers,
        "client": ("203.0.113.9", 40000),
    }


def _answer(sent: list[dict[str, Any]]) -> tuple[int, dict[str, str]]:
    start = next(message for message in sent if message["type"] == "http.response.start")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}


def test_a_body_that_stalls_gets_408_and_nothing_is_stored(settings):
    settings.WEBHOOK_BODY_TIMEOUT_SECONDS = 0.5
    raw = b'{"object": "whatsapp_business_account", "entry": []}'
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def run() -> None:
        intake = WebhookIntake(get_asgi_application())
        try:
            # The guard only keeps a regression from hanging the suite; the intake must answer first.
            await asyncio.wait_for(intake(_scope(raw), _stalled_body(raw[:10]), send), timeout=10)
        finally:
            await intake.close()

    asyncio.run(run())
    assert _answer(sent)[0] == 408
    assert _events() == []


def test_body_reads_over_the_per_worker_cap_get_503_with_retry_after(settings):
    settings.WEBHOOK_BODY_TIMEOUT_SECONDS = 1
    settings.WEBHOOK_MAX_CONCURRENT_READS = 2
    raw = b'{"object": "whatsapp_business_account", "entry": []}'
    answers: dict[str, list[dict[str, Any]]] = {"slow1": [], "slow2": [], "over": [], "later": []}

    def sender(name: str):
        async def send(message: dict[str, Any]) -> None:
            answers[name].append(message)

        return send

    async def run() -> None:
        intake = WebhookIntake(get_asgi_application())
        try:
            slow = [
                asyncio.create_task(intake(_scope(raw), _stalled_body(raw[:10]), sender(name)))
                for name in ("slow1", "slow2")
            ]
            await asyncio.sleep(0.1)  # both slow senders are now holding a read slot
            await asyncio.wait_for(intake(_scope(raw), _complete_body(raw), sender("over")), timeout=5)
            await asyncio.wait_for(asyncio.gather(*slow), timeout=10)
            # The slots are free again once the stalled reads timed out.
            await asyncio.wait_for(intake(_scope(raw), _complete_body(raw), sender("later")), timeout=5)
        finally:
            await intake.close()

    asyncio.run(run())
    status, headers = _answer(answers["over"])
    assert status == 503 and int(headers["retry-after"]) >= 1
    assert [_answer(answers[name])[0] for name in ("slow1", "slow2", "later")] == [408, 408, 200]
    assert len(_events()) == 1


def test_redis_down_keeps_the_event_pending_for_the_sweeper(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    status, _, _ = _post(b'{"object": "whatsapp_business_account", "entry": []}')
    [event] = _events()
    assert (status, event.status) == (200, "pending")


def test_postgres_down_answers_503_so_meta_retries(monkeypatch):
    def unreachable() -> dict[str, Any]:
        return {"host": "127.0.0.1", "port": 1, "dbname": "nowhere", "connect_timeout": 1}

    monkeypatch.setattr("whatsapp.webhooks.asgi._connection_kwargs", unreachable)
    monkeypatch.setattr(WebhookIntake, "POOL_TIMEOUT", 1.0)
    status, _, content = _post(b'{"object": "whatsapp_business_account", "entry": []}')
    assert (status, json.loads(content)) == (503, {"error": "Temporarily unavailable."})


def test_unknown_hosts_are_refused():
    status, _, _ = _post(b"{}", headers={"host": "evil.example"})
    assert status == 400
    assert _events() == []


def test_production_takes_deliveries_over_https_only(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    raw = b'{"object": "whatsapp_business_account", "entry": []}'
    assert _post(raw)[0] == 403
    assert _post(raw, headers={"x-forwarded-proto": "https"})[0] == 200
    assert len(_events()) == 1


def test_subscription_verification_and_other_pages_go_to_django(settings):
    settings.META_WEBHOOK_VERIFY_TOKEN = "verify-me"
    query = b"hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444"
    status, _, content = _exchange("GET", "/webhooks/meta/", query=query)
    assert (status, content) == (200, b"1158201444")
    assert _exchange("GET", "/webhooks/meta/", query=b"hub.mode=subscribe&hub.verify_token=no")[0] == 403
    assert _exchange("GET", "/accounts/login/")[0] == 200


def test_the_server_lifespan_opens_and_closes_cleanly():
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    asyncio.run(WebhookIntake(get_asgi_application())({"type": "lifespan"}, receive, send))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


# --- Group commit: concurrent deliveries share one INSERT and one commit


def _delivery(n: int) -> bytes:
    return json.dumps({"object": "whatsapp_business_account", "entry": [], "n": n}).encode()


def _reply(sent: list[dict[str, Any]]):
    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    return send


async def _watcher() -> psycopg.AsyncConnection:
    """Another connection, outside the intake's pool: it sees committed rows only."""
    conn = await psycopg.AsyncConnection.connect(**{**asgi._connection_kwargs(), "autocommit": True})
    await conn.execute("SELECT set_config('app.platform', 'on', false)")
    return conn


async def _committed_bodies(watcher: psycopg.AsyncConnection) -> set[str]:
    cursor = await watcher.execute("SELECT body FROM whatsapp_webhookevent")
    return {crypto.decrypt(sealed, context=intake.BODY_CONTEXT) for (sealed,) in await cursor.fetchall()}


async def _until(condition, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def _table_locked():
    """A connection holding a lock that makes every INSERT into the event table wait: a commit
    that takes as long as the test wants."""
    conn = await psycopg.AsyncConnection.connect(**asgi._connection_kwargs())
    await conn.execute("LOCK TABLE whatsapp_webhookevent IN SHARE MODE")
    return conn


def test_concurrent_deliveries_share_groups_and_each_200_comes_after_its_row_is_committed():
    raws = [_delivery(n) for n in range(50)]
    seen_at_answer: dict[int, bool] = {}
    statuses: dict[int, int] = {}
    watching: list[psycopg.AsyncConnection] = []

    def sender(n: int):
        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses[n] = message["status"]
                seen_at_answer[n] = raws[n].decode() in await _committed_bodies(watching[0])

        return send

    async def run() -> int:
        webhook_intake = WebhookIntake(get_asgi_application())
        watching.append(await _watcher())
        try:
            await asyncio.gather(
                *(webhook_intake(_scope(raw), _complete_body(raw), sender(n)) for n, raw in enumerate(raws))
            )
            return webhook_intake.committer().groups
        finally:
            await watching[0].close()
            await webhook_intake.close()

    groups = asyncio.run(run())

    assert statuses == dict.fromkeys(range(50), 200)
    assert seen_at_answer == dict.fromkeys(range(50), True)
    assert 1 <= groups < 50
    events = _events()
    assert sorted(event.body.reveal() for event in events) == sorted(raw.decode() for raw in raws)
    ready_ids = {int(raw) for raw in queues.redis_connection().lrange(ready.READY_KEY, 0, -1)}
    assert ready_ids == {event.pk for event in events}


def test_each_delivery_of_a_group_gets_its_own_row_and_only_pending_rows_are_handed_over():
    raws = [b"{broken %d" % n if n % 5 == 0 else _delivery(n) for n in range(40)]

    async def run() -> tuple[list[int], int]:
        webhook_intake = WebhookIntake(get_asgi_application())
        try:
            committer = webhook_intake.committer()
            ids = await asyncio.gather(*(committer.store(intake.inspect_body(raw)) for raw in raws))
            return list(ids), committer.groups
        finally:
            await webhook_intake.close()

    ids, groups = asyncio.run(run())

    assert groups < len(raws)
    with platform_context("test"):
        stored = WebhookEvent.all_tenants.in_bulk(ids)
    assert [stored[event_id].body.reveal() for event_id in ids] == [raw.decode() for raw in raws]
    assert [stored[event_id].status for event_id in ids] == ["dead" if n % 5 == 0 else "pending" for n in range(40)]
    ready_ids = [int(raw) for raw in queues.redis_connection().lrange(ready.READY_KEY, 0, -1)]
    assert sorted(ready_ids) == sorted(event_id for n, event_id in enumerate(ids) if n % 5)


@pytest.fixture
def dead_rows_refused(transactional_db):
    """The database fails the INSERT part-way through a group: a trigger refuses the row of a
    malformed delivery (stored `dead`) after the rows before it were written."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_refuse_dead_webhook() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN IF NEW.status = 'dead' THEN RAISE EXCEPTION 'disk full'; END IF; RETURN NEW; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER test_refuse_dead_webhook BEFORE INSERT ON whatsapp_webhookevent"
            " FOR EACH ROW EXECUTE FUNCTION test_refuse_dead_webhook()"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER test_refuse_dead_webhook ON whatsapp_webhookevent")
        cursor.execute("DROP FUNCTION test_refuse_dead_webhook()")


def test_a_database_failure_mid_group_answers_503_to_every_member_and_stores_none(dead_rows_refused):
    raws = [b"{broken" if n == 25 else _delivery(n) for n in range(50)]
    answers: list[list[dict[str, Any]]] = [[] for _ in raws]

    async def run() -> int:
        webhook_intake = WebhookIntake(get_asgi_application())
        try:
            await asyncio.gather(
                *(webhook_intake(_scope(raw), _complete_body(raw), _reply(answers[n])) for n, raw in enumerate(raws))
            )
            groups = webhook_intake.committer().groups
            # The failed group's connection went back to the pool clean: the next delivery is stored.
            later: list[dict[str, Any]] = []
            await webhook_intake(_scope(_delivery(99)), _complete_body(_delivery(99)), _reply(later))
            assert _answer(later)[0] == 200
            return groups
        finally:
            await webhook_intake.close()

    groups = asyncio.run(run())

    assert groups < len(raws)
    assert {(_answer(sent)[0], "retry-after" in _answer(sent)[1]) for sent in answers} == {(503, True)}
    assert [event.body.reveal() for event in _events()] == [_delivery(99).decode()]
    assert queues.redis_connection().lrange(ready.READY_KEY, 0, -1) == [str(_events()[0].pk).encode()]


def test_redis_down_answers_every_member_of_a_group_200_and_keeps_the_rows_pending(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    raws = [_delivery(n) for n in range(20)]
    answers: list[list[dict[str, Any]]] = [[] for _ in raws]

    async def run() -> int:
        webhook_intake = WebhookIntake(get_asgi_application())
        try:
            await asyncio.gather(
                *(webhook_intake(_scope(raw), _complete_body(raw), _reply(answers[n])) for n, raw in enumerate(raws))
            )
            return webhook_intake.committer().groups
        finally:
            await webhook_intake.close()

    groups = asyncio.run(run())

    assert groups < len(raws)
    assert [_answer(sent)[0] for sent in answers] == [200] * 20
    assert [event.status for event in _events()] == ["pending"] * 20


def test_a_lone_delivery_is_answered_at_once_not_after_the_window(settings):
    settings.WEBHOOK_GROUP_WINDOW_MS = 5000
    raw = _delivery(1)

    async def run() -> list[float]:
        webhook_intake = WebhookIntake(get_asgi_application())
        took = []
        try:
            for _ in range(2):  # the first one also opens the pool
                sent: list[dict[str, Any]] = []
                started = time.monotonic()
                await webhook_intake(_scope(raw), _complete_body(raw), _reply(sent))
                took.append(time.monotonic() - started)
                assert _answer(sent)[0] == 200
        finally:
            await webhook_intake.close()
        return took

    took = asyncio.run(run())

    assert max(took) < 1.0  # far below the 5 s window: nothing waits for it when the database is idle
    assert len(_events()) == 2


def test_deliveries_arriving_while_a_group_commits_form_the_next_group(settings):
    settings.WEBHOOK_INTAKE_DB_CONNECTIONS = 1
    raws = {name: _delivery(n) for n, name in enumerate("abcd")}
    answers: dict[str, list[dict[str, Any]]] = {name: [] for name in raws}

    async def run() -> int:
        webhook_intake = WebhookIntake(get_asgi_application())
        committer = webhook_intake.committer()
        lock = await _table_locked()
        try:
            tasks = {
                "a": asyncio.create_task(
                    webhook_intake(_scope(raws["a"]), _complete_body(raws["a"]), _reply(answers["a"]))
                )
            }
            await _until(lambda: committer.groups == 1)  # a's group is on the database, waiting on the lock
            for name in "bcd":
                tasks[name] = asyncio.create_task(
                    webhook_intake(_scope(raws[name]), _complete_body(raws[name]), _reply(answers[name]))
                )
            await asyncio.sleep(0.2)
            assert committer.groups == 1  # the only connection is busy: b, c and d wait together
            tasks["c"].cancel()  # c's client goes away before its group is sent
            await lock.rollback()
            await asyncio.gather(*tasks.values(), return_exceptions=True)
            return committer.groups
        finally:
            await lock.close()
            await webhook_intake.close()

    groups = asyncio.run(run())

    assert groups == 2
    assert {name: _answer(sent)[0] for name, sent in answers.items() if sent} == {"a": 200, "b": 200, "d": 200}
    assert answers["c"] == []
    assert sorted(event.body.reveal() for event in _events()) == sorted(raws[name].decode() for name in "abd")


def test_a_slow_commit_holds_the_next_group_no_longer_than_the_window(settings):
    settings.WEBHOOK_INTAKE_DB_CONNECTIONS = 2
    settings.WEBHOOK_GROUP_WINDOW_MS = 50
    first, second = _delivery(1), _delivery(2)
    answers: dict[str, list[dict[str, Any]]] = {"first": [], "second": []}

    async def run() -> int:
        webhook_intake = WebhookIntake(get_asgi_application())
        committer = webhook_intake.committer()
        lock = await _table_locked()
        try:
            slow = asyncio.create_task(webhook_intake(_scope(first), _complete_body(first), _reply(answers["first"])))
            await _until(lambda: committer.groups == 1)
            other = asyncio.create_task(
                webhook_intake(_scope(second), _complete_body(second), _reply(answers["second"]))
            )
            # The first commit is still stuck; past the window the second group takes the other connection.
            await _until(lambda: committer.groups == 2, timeout=2)
            assert not slow.done() and not other.done()  # neither is answered before its row is committed
            await lock.rollback()
            await asyncio.gather(slow, other)
            return committer.groups
        finally:
            await lock.close()
            await webhook_intake.close()

    assert asyncio.run(run()) == 2
    assert [_answer(sent)[0] for sent in answers.values()] == [200, 200]
    assert len(_events()) == 2


def test_shutdown_stores_what_is_waiting_and_refuses_what_comes_after(settings):
    settings.WEBHOOK_INTAKE_DB_CONNECTIONS = 1
    raws = [_delivery(n) for n in range(4)]
    answers: list[list[dict[str, Any]]] = [[] for _ in range(5)]

    async def run() -> None:
        webhook_intake = WebhookIntake(get_asgi_application())
        committer = webhook_intake.committer()
        lock = await _table_locked()
        try:
            first = asyncio.create_task(webhook_intake(_scope(raws[0]), _complete_body(raws[0]), _reply(answers[0])))
            await _until(lambda: committer.groups == 1)
            waiting = [
                asyncio.create_task(webhook_intake(_scope(raw), _complete_body(raw), _reply(answers[n + 1])))
                for n, raw in enumerate(raws[1:])
            ]
            await asyncio.sleep(0.05)
            closing = asyncio.create_task(webhook_intake.close())
            await asyncio.sleep(0.05)
            late = _delivery(9)
            await webhook_intake(_scope(late), _complete_body(late), _reply(answers[4]))
            await lock.rollback()
            await asyncio.wait_for(asyncio.gather(first, *waiting, closing), timeout=10)
        finally:
            await lock.close()
            await webhook_intake.close()

    asyncio.run(run())

    assert [_answer(sent)[0] for sent in answers] == [200, 200, 200, 200, 503]
    assert sorted(event.body.reveal() for event in _events()) == sorted(raw.decode() for raw in raws)
