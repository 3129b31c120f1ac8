"""The simulator itself: persistence across restarts, the control API, Meta-shaped validation."""

import requests

from whatsapp.simulator import SimulatorServer


def test_state_survives_a_restart_so_sandbox_tokens_keep_working(tmp_path):
    state_file = tmp_path / "simulator.json"
    first = SimulatorServer(state_file=state_file).start()
    business = requests.post(f"{first.url}/_sim/businesses", json={"name": "Demo"}, timeout=5).json()
    first.stop()

    second = SimulatorServer(state_file=state_file).start()
    try:
        answer = requests.get(
            f"{second.url}/v23.0/{business['waba_id']}/phone_numbers",
            headers={"Authorization": f"Bearer {business['token']}"},
            timeout=5,
        )
        assert answer.status_code == 200 and answer.json()["data"][0]["id"] == business["phone_number_id"]
    finally:
        second.stop()


def test_request_log_never_keeps_tokens_or_secrets(simulator):
    token = simulator.state.sandbox["token"]
    requests.get(
        f"{simulator.url}/v23.0/debug_token", params={"input_token": token, "access_token": "app|secret"}, timeout=5
    )
    assert token not in str(simulator.state.requests) and "secret" not in str(simulator.state.requests)


def test_malformed_json_gets_metas_error_shape(simulator):
    answer = requests.post(
        f"{simulator.url}/v23.0/{simulator.state.sandbox['phone_number_id']}/messages",
        data=b"{not json",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {simulator.state.sandbox['token']}"},
        timeout=5,
    )
    assert answer.status_code == 400 and answer.json()["error"]["code"] == 100


def test_unknown_control_route_is_404(simulator):
    assert requests.post(f"{simulator.url}/_sim/nothing", timeout=5).status_code == 404


def test_inbound_message_is_posted_signed(simulator, settings):
    import hashlib
    import hmac
    import json

    payload = requests.post(
        f"{simulator.url}/_sim/inbound", json={"type": "text", "content": {"body": "STOP"}}, timeout=5
    ).json()
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    assert message["text"]["body"] == "STOP" and message["id"].startswith("wamid.")
    body = json.dumps(payload, separators=(",", ":")).encode()
    expected = "sha256=" + hmac.new(settings.META_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    from whatsapp.simulator.webhooks import signature

    assert signature(settings.META_APP_SECRET, body) == expected
