"""The Graph client against the simulator over real HTTP: every call, every error class, retries,
backoff, timeouts and the circuit breaker."""

import time

import pytest

from whatsapp.graph import (
    CircuitOpenError,
    ErrorClass,
    GraphAuthError,
    GraphNetworkError,
    GraphPermanentError,
    GraphRetryableError,
    GraphThrottledError,
    classify,
)
from whatsapp.simulator import Faults

pytestmark = pytest.mark.django_db


def _sandbox(simulator):
    return simulator.state.sandbox


def _sends(simulator):
    return [r for r in simulator.state.requests if r["path"].endswith("/messages")]


def test_send_text_returns_a_wamid_and_the_simulator_records_one_request(simulator, graph_client):
    answer = graph_client().send_message(
        _sandbox(simulator)["phone_number_id"], {"to": "+91 98123 45621", "type": "text", "text": {"body": "Hi"}}
    )
    assert answer["messages"][0]["id"].startswith("wamid.")
    assert answer["contacts"][0]["wa_id"] == "919812345621"
    assert simulator.state.sends_per_recipient() == {"919812345621": 1}
    assert "Authorization" not in str(simulator.state.requests)


def test_send_template_is_accepted(simulator, graph_client):
    answer = graph_client().send_message(
        _sandbox(simulator)["phone_number_id"],
        {"to": "14155552671", "type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}}},
    )
    assert answer["messages"][0]["message_status"] == "accepted"


def test_status_webhooks_follow_a_send(simulator, graph_client):
    graph_client().send_message(
        _sandbox(simulator)["phone_number_id"], {"to": "14155552671", "type": "text", "text": {"body": "Hi"}}
    )
    time.sleep(0.4)
    statuses = [p["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] for p in simulator.webhooks.delivered]
    assert statuses == ["sent", "delivered", "read"]


def test_mark_as_read_media_and_profile(simulator, graph_client):
    client, phone = graph_client(), _sandbox(simulator)["phone_number_id"]
    assert client.mark_as_read(phone, "wamid.ABC")["success"] is True
    media_id = client.upload_media(phone, filename="a.jpg", content=b"\xff\xd8", mime_type="image/jpeg")
    assert client.get_media(media_id)["url"].startswith(f"{simulator.url}/_sim/media/")
    assert client.get_business_profile(phone)["about"]
    assert client.update_business_profile(phone, {"about": "We sell tea"})["success"] is True


def test_templates_create_list_page_edit_delete(simulator, graph_client):
    client, waba = graph_client(), _sandbox(simulator)["waba_id"]
    created = client.create_template(
        waba,
        {
            "name": "order_update",
            "language": "en_US",
            "category": "UTILITY",
            "components": [{"type": "BODY", "text": "Order {{1}} shipped"}],
        },
    )
    assert created["status"] == "PENDING"
    for number in range(120):
        simulator.state.add_template(
            waba, name=f"bulk_{number}", language="en", category="MARKETING", components=[{"type": "BODY", "text": "x"}]
        )
    names = [t["name"] for t in client.iter_templates(waba, page_size=50)]
    assert len(names) == 122 and "order_update" in names
    time.sleep(0.5)
    assert simulator.state.templates[created["id"]].status == "APPROVED"
    assert client.edit_template(created["id"], {"components": [{"type": "BODY", "text": "Order {{1}} is out"}]})
    assert client.delete_template(waba, name="order_update")["success"] is True


def test_duplicate_template_is_a_permanent_error_with_metas_text(simulator, graph_client):
    client, waba = graph_client(), _sandbox(simulator)["waba_id"]
    with pytest.raises(GraphPermanentError) as error:
        client.create_template(
            waba,
            {
                "name": "hello_world",
                "language": "en_US",
                "category": "UTILITY",
                "components": [{"type": "BODY", "text": "x"}],
            },
        )
    assert error.value.code == 100 and error.value.subcode == 2388024
    assert "already" in error.value.describe()


def test_phone_numbers_register_subscribe(simulator, graph_client):
    client, sandbox = graph_client(), _sandbox(simulator)
    numbers = client.list_phone_numbers(sandbox["waba_id"])
    assert numbers[0]["quality_rating"] == "GREEN" and numbers[0]["messaging_limit_tier"] == "TIER_1K"
    assert client.get_phone_number(sandbox["phone_number_id"])["verified_name"] == "Aerostic Sandbox"
    assert client.get_waba(sandbox["waba_id"])["owner_business_info"]["id"] == sandbox["business_id"]
    assert client.register_phone(sandbox["phone_number_id"], pin="123456")["success"] is True
    assert client.deregister_phone(sandbox["phone_number_id"])["success"] is True
    assert client.subscribe_app(sandbox["waba_id"])["success"] is True
    assert client.list_subscribed_apps(sandbox["waba_id"])
    assert client.unsubscribe_app(sandbox["waba_id"])["success"] is True


def test_wrong_pin_is_a_permanent_error(simulator, graph_client):
    with pytest.raises(GraphPermanentError) as error:
        graph_client().register_phone(_sandbox(simulator)["phone_number_id"], pin="000000")
    assert error.value.code == 133005


def test_code_exchange_and_debug_token(simulator, graph_client, settings):
    signup = simulator.state.create_signup(name="Tea Shop")
    client = graph_client(token="sim-app|secret")
    token = client.exchange_code(signup["code"])
    info = graph_client().debug_token(token)
    assert info["is_valid"] and "whatsapp_business_messaging" in info["scopes"]
    with pytest.raises(GraphPermanentError, match="verification code"):
        client.exchange_code(signup["code"])  # a code works once


def test_invalid_token_is_an_auth_error_and_is_not_retried(simulator, graph_client):
    client = graph_client(token="EAA-not-a-token")
    with pytest.raises(GraphAuthError) as error:
        client.list_phone_numbers(_sandbox(simulator)["waba_id"])
    assert error.value.code == 190 and client.attempts_made == 1
    assert "EAA-not-a-token" not in str(error.value) + repr(error.value.as_dict())


def test_server_errors_are_retried_up_to_the_cap_with_backoff(simulator, graph_client):
    simulator.state.faults = Faults(server_error_rate=1.0)
    pauses = []
    client = graph_client(max_attempts=4, backoff_base=0.1, backoff_cap=1.0, sleep=pauses.append)
    with pytest.raises(GraphRetryableError) as error:
        client.get_phone_number(_sandbox(simulator)["phone_number_id"])
    assert error.value.error_class == ErrorClass.RETRYABLE and error.value.code == 1
    assert client.attempts_made == 4 and len(pauses) == 3
    assert all(0 <= pause <= cap for pause, cap in zip(pauses, (0.1, 0.2, 0.4), strict=True))


def test_throttling_is_classified_and_retried(simulator, graph_client):
    simulator.state.faults = Faults(throttle_rate=1.0)
    client = graph_client(max_attempts=2)
    with pytest.raises(GraphThrottledError) as error:
        client.send_message(
            _sandbox(simulator)["phone_number_id"], {"to": "14155552671", "type": "text", "text": {"body": "x"}}
        )
    assert error.value.code == 130429 and client.attempts_made == 2
    assert simulator.state.sends_per_recipient() == {}


def test_permanent_errors_are_not_retried(simulator, graph_client):
    client = graph_client(max_attempts=5)
    with pytest.raises(GraphPermanentError) as error:
        client.send_message(
            _sandbox(simulator)["phone_number_id"],
            {"to": "14155552671", "type": "template", "template": {"name": "missing", "language": {"code": "en_US"}}},
        )
    assert error.value.code == 132001 and client.attempts_made == 1
    assert "does not exist" in error.value.details


def test_timeouts_become_network_errors(simulator, graph_client):
    simulator.state.faults = Faults(timeout_rate=1.0, timeout_seconds=1.5)
    client = graph_client(read_timeout=0.3, max_attempts=2)
    started = time.monotonic()
    with pytest.raises(GraphNetworkError, match="did not answer in time"):
        client.get_phone_number(_sandbox(simulator)["phone_number_id"])
    assert client.attempts_made == 2 and time.monotonic() - started < 1.4


def test_connection_refused_is_a_network_error(graph_client, settings):
    client = graph_client(base_url="http://127.0.0.1:9", max_attempts=2)
    with pytest.raises(GraphNetworkError, match="Could not reach Meta"):
        client.list_phone_numbers("1")


def test_breaker_opens_after_repeated_failures_then_half_opens_and_closes(simulator, graph_client, settings):
    settings.GRAPH_BREAKER_THRESHOLD = 3
    settings.GRAPH_BREAKER_COOLDOWN_SECONDS = 1
    phone = _sandbox(simulator)["phone_number_id"]
    simulator.state.faults = Faults(server_error_rate=1.0)
    client = graph_client(breaker_key=f"phone:{phone}", max_attempts=3)
    with pytest.raises(GraphRetryableError):
        client.get_phone_number(phone)
    assert client.breaker.state().state == "open"
    calls_before = len(simulator.state.requests)
    with pytest.raises(CircuitOpenError):
        client.get_phone_number(phone)
    assert len(simulator.state.requests) == calls_before  # an open circuit sends nothing

    simulator.state.faults = Faults()
    time.sleep(1.1)
    assert client.breaker.state().state == "half_open"
    assert client.get_phone_number(phone)["id"] == phone
    assert client.breaker.state().state == "closed"


def test_undeliverable_number_gets_a_failed_status_webhook(simulator, graph_client):
    simulator.state.faults = Faults(undeliverable={"14155550000": 131026})
    graph_client().send_message(
        _sandbox(simulator)["phone_number_id"], {"to": "14155550000", "type": "text", "text": {"body": "x"}}
    )
    time.sleep(0.3)
    failed = [
        p["entry"][0]["changes"][0]["value"]["statuses"][0]
        for p in simulator.webhooks.delivered
        if p["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] == "failed"
    ]
    assert failed[0]["errors"][0]["code"] == 131026


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, 131026, ErrorClass.PERMANENT),
        (400, 131047, ErrorClass.PERMANENT),
        (400, 132012, ErrorClass.PERMANENT),
        (400, 368, ErrorClass.PERMANENT),
        (401, 190, ErrorClass.AUTH),
        (429, 130429, ErrorClass.THROTTLED),
        (400, 131056, ErrorClass.THROTTLED),
        (400, 80007, ErrorClass.THROTTLED),
        (400, 4, ErrorClass.THROTTLED),
        (500, 131000, ErrorClass.RETRYABLE),
        (503, None, ErrorClass.RETRYABLE),
        (400, None, ErrorClass.PERMANENT),
    ],
    ids=lambda value: str(value),
)
def test_error_classification(status, code, expected):
    assert classify(status, code) == expected


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "image", "image": {"link": "https://example.com/a.jpg", "caption": "Menu"}},
        {"type": "document", "document": {"id": "1234567890", "filename": "invoice.pdf"}},
        {
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "Confirm?"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "y", "title": "Yes"}}]},
            },
        },
        {"type": "reaction", "reaction": {"message_id": "wamid.ABC", "emoji": "👍"}},
        {"type": "location", "location": {"latitude": 1.0, "longitude": 2.0}},
        {
            "type": "template",
            "template": {
                "name": "hello_world",
                "language": {"code": "en_US"},
                "components": [{"type": "body", "parameters": []}],
            },
        },
    ],
    ids=["image-link", "document-id", "interactive-buttons", "reaction", "location", "template-with-components"],
)
def test_every_message_kind_is_sent(simulator, graph_client, payload):
    answer = graph_client().send_message(_sandbox(simulator)["phone_number_id"], {"to": "14155552671", **payload})
    assert answer["messages"][0]["id"].startswith("wamid.")
    assert simulator.state.requests[-1]["json"]["type"] == payload["type"]


def test_a_message_kind_without_its_object_is_refused(simulator, graph_client):
    with pytest.raises(GraphPermanentError, match="needs a 'image' object"):
        graph_client().send_message(_sandbox(simulator)["phone_number_id"], {"to": "14155552671", "type": "image"})


def test_a_number_marked_for_rejection_gets_its_error_at_once(simulator, graph_client):
    simulator.state.faults = Faults(rejected={"14155550001": 131030})
    with pytest.raises(GraphPermanentError) as error:
        graph_client().send_message(
            _sandbox(simulator)["phone_number_id"], {"to": "14155550001", "type": "text", "text": {"body": "x"}}
        )
    assert error.value.code == 131030


@pytest.mark.parametrize(
    "kind", ["text", "image", "interactive", "button", "reaction", "location", "contacts", "unsupported"]
)
def test_inbound_messages_of_every_kind_are_posted_as_webhooks(simulator, kind):
    payload = simulator.inbound_message(
        phone_number_id=_sandbox(simulator)["phone_number_id"], sender="919812345621", message_type=kind
    )
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    assert message["type"] == kind and (kind in message or "errors" in message)
    assert simulator.webhooks.delivered[-1] is payload
