"""Live Graph checks a person triggers (validate, check connection, template refresh and sync) need
the connect / edit permissions and have a per-workspace cooldown: refused calls reach no Graph
endpoint (the simulator's request log proves it)."""

import pytest
import requests

from aerostic.core.tenant_context import tenant_context
from whatsapp.models import MessageTemplate

pytestmark = pytest.mark.django_db


def _graph_calls(simulator) -> int:
    return len(requests.get(f"{simulator.url}/_sim/requests", timeout=5).json()["requests"])


def _hello_world(alpha) -> MessageTemplate:
    with tenant_context(alpha.tenant):
        return MessageTemplate.objects.get(name="hello_world")


@pytest.mark.parametrize("path", ["/api/v1/whatsapp/validate", "/api/v1/whatsapp/check-connection"])
def test_a_viewer_cannot_run_live_connection_checks_and_graph_sees_nothing(
    path, simulator, connected, alpha, api_client_for
):
    before = _graph_calls(simulator)
    assert api_client_for(alpha.viewer).get(path).status_code == 403
    assert _graph_calls(simulator) == before


def test_a_viewer_cannot_check_the_connection_in_the_portal(simulator, connected, alpha, login_client):
    client = login_client(alpha.viewer)
    assert "Check connection" not in client.get("/whatsapp/").content.decode()
    before = _graph_calls(simulator)
    assert client.post(f"/whatsapp/accounts/{connected.pk}/check/").status_code == 403
    assert _graph_calls(simulator) == before


def test_a_viewer_cannot_refresh_or_sync_templates(simulator, connected, alpha, login_client, api_client_for):
    template = _hello_world(alpha)
    before = _graph_calls(simulator)
    assert login_client(alpha.viewer).post(f"/whatsapp/templates/{template.pk}/refresh/").status_code == 403
    assert api_client_for(alpha.viewer).post(f"/api/v1/templates/{template.pk}/refresh/").status_code == 403
    assert login_client(alpha.viewer).post(f"/whatsapp/accounts/{connected.pk}/templates/sync/").status_code == 403
    assert _graph_calls(simulator) == before


def test_a_second_live_check_within_the_cooldown_is_429_without_a_graph_call(
    simulator, connected, alpha, api_client_for
):
    client = api_client_for(alpha.admin)
    assert client.get("/api/v1/whatsapp/validate").status_code == 200
    before = _graph_calls(simulator)
    again = client.get("/api/v1/whatsapp/check-connection")
    assert again.status_code == 429 and "try again in" in again.json()["detail"]
    assert 0 < int(again["Retry-After"]) <= 30
    assert _graph_calls(simulator) == before


def test_the_cooldown_is_per_workspace(simulator, connected, alpha, bravo, api_client_for):
    from whatsapp.connections.connect import sandbox_connect

    sandbox_connect(tenant=bravo.tenant, actor=bravo.admin.user)
    assert api_client_for(alpha.admin).get("/api/v1/whatsapp/validate").status_code == 200
    assert api_client_for(bravo.admin).get("/api/v1/whatsapp/validate").status_code == 200


def test_the_portal_check_says_to_wait_within_the_cooldown(simulator, connected, alpha, login_client):
    client = login_client(alpha.admin)
    assert "Valid" in client.post(f"/whatsapp/accounts/{connected.pk}/check/").content.decode()
    before = _graph_calls(simulator)
    again = client.post(f"/whatsapp/accounts/{connected.pk}/check/")
    assert "try again in" in again.content.decode()
    assert _graph_calls(simulator) == before


def test_template_refresh_and_sync_have_their_cooldown(simulator, connected, alpha, api_client_for):
    client = api_client_for(alpha.admin)
    template = _hello_world(alpha)
    assert client.post(f"/api/v1/templates/{template.pk}/refresh/").status_code == 200
    assert client.post(f"/api/v1/whatsapp/accounts/{connected.pk}/templates/sync/").status_code == 200
    before = _graph_calls(simulator)
    assert client.post(f"/api/v1/templates/{template.pk}/refresh/").status_code == 429
    assert client.post(f"/api/v1/whatsapp/accounts/{connected.pk}/templates/sync/").status_code == 429
    assert _graph_calls(simulator) == before
