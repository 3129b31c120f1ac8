"""Per-workspace limits on creating templates and submitting them to Meta (per hour and per day),
enforced by the template service: the API answers 429 with the reason and Retry-After, the portal
shows the reason, and nothing is stored or sent to Meta past the limit."""

import pytest

from aerostic.core.tenant_context import tenant_context
from whatsapp.models import MessageTemplate

pytestmark = pytest.mark.django_db

BODY = {"type": "BODY", "text": "Hi {{1}}, your order ships today.", "example": {"body_text": [["Ana"]]}}


def _draft_input(account_id: int, name: str) -> dict:
    return {"account_id": account_id, "name": name, "language": "en_US", "category": "UTILITY", "components": [BODY]}


def _templates(tenant) -> list[str]:
    with tenant_context(tenant):
        return sorted(MessageTemplate.objects.exclude(name="hello_world").values_list("name", flat=True))


def _creates_sent_to_meta(simulator) -> int:
    return sum(
        1 for r in simulator.state.requests if r["method"] == "POST" and r["path"].endswith("/message_templates")
    )


def test_the_api_refuses_creations_past_the_hourly_limit_with_429_and_retry_after(
    settings, connected, alpha, api_client_for
):
    settings.TEMPLATE_CREATES_PER_HOUR = 2
    client = api_client_for(alpha.admin)
    for name in ("first", "second"):
        assert client.post("/api/v1/templates/", _draft_input(connected.pk, name), format="json").status_code == 201
    refused = client.post("/api/v1/templates/", _draft_input(connected.pk, "third"), format="json")
    assert refused.status_code == 429
    assert "limit of 2 new templates per hour" in refused.json()["detail"]
    assert refused.json()["code"] == "rate_limited"
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert _templates(alpha.tenant) == ["first", "second"]


def test_the_daily_creation_limit_applies_too(settings, connected, alpha, api_client_for):
    settings.TEMPLATE_CREATES_PER_DAY = 1
    client = api_client_for(alpha.admin)
    assert client.post("/api/v1/templates/", _draft_input(connected.pk, "first"), format="json").status_code == 201
    refused = client.post("/api/v1/templates/", _draft_input(connected.pk, "second"), format="json")
    assert refused.status_code == 429 and "per day" in refused.json()["detail"]


def test_editing_a_draft_is_not_a_creation(settings, connected, alpha, api_client_for):
    settings.TEMPLATE_CREATES_PER_HOUR = 1
    client = api_client_for(alpha.admin)
    template_id = client.post("/api/v1/templates/", _draft_input(connected.pk, "first"), format="json").json()["id"]
    changed = client.patch(f"/api/v1/templates/{template_id}/", {"category": "MARKETING"}, format="json")
    assert changed.status_code == 200


def test_the_api_refuses_submissions_past_the_limit_and_meta_sees_nothing(
    settings, simulator, connected, alpha, api_client_for
):
    settings.TEMPLATE_SUBMITS_PER_HOUR = 1
    client = api_client_for(alpha.admin)
    ids = [
        client.post("/api/v1/templates/", _draft_input(connected.pk, name), format="json").json()["id"]
        for name in ("first", "second")
    ]
    assert client.post(f"/api/v1/templates/{ids[0]}/submit/").status_code == 200
    refused = client.post(f"/api/v1/templates/{ids[1]}/submit/")
    assert refused.status_code == 429 and "1 template submissions to Meta per hour" in refused.json()["detail"]
    assert refused.has_header("Retry-After")
    assert _creates_sent_to_meta(simulator) == 1
    with tenant_context(alpha.tenant):
        assert MessageTemplate.objects.get(pk=ids[1]).status == "DRAFT"


def test_the_portal_shows_the_limit_as_a_form_error(settings, connected, alpha, login_client):
    from whatsapp.tests.test_template_portal_api import BUILDER

    settings.TEMPLATE_CREATES_PER_HOUR = 1
    client = login_client(alpha.admin)
    first = client.post("/whatsapp/templates/new/", {**BUILDER, "account": connected.pk, "action": "save"})
    assert first.status_code == 302
    second = client.post(
        "/whatsapp/templates/new/", {**BUILDER, "name": "another_one", "account": connected.pk, "action": "save"}
    )
    assert second.status_code == 400
    assert "limit of 1 new templates per hour" in second.content.decode()
    assert _templates(alpha.tenant) == ["order_update"]


def test_the_limits_are_per_workspace(settings, simulator, connected, alpha, bravo, api_client_for):
    from whatsapp.connections.connect import sandbox_connect

    settings.TEMPLATE_CREATES_PER_HOUR = 1
    bravo_account = sandbox_connect(tenant=bravo.tenant, actor=bravo.admin.user)
    alpha_client, bravo_client = api_client_for(alpha.admin), api_client_for(bravo.admin)
    assert alpha_client.post("/api/v1/templates/", _draft_input(connected.pk, "a1"), format="json").status_code == 201
    assert alpha_client.post("/api/v1/templates/", _draft_input(connected.pk, "a2"), format="json").status_code == 429
    assert (
        bravo_client.post("/api/v1/templates/", _draft_input(bravo_account.pk, "b1"), format="json").status_code == 201
    )
