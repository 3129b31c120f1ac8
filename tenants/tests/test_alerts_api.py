"""/api/v1/alerts/ and /api/v1/alert-channels/: list, read, acknowledge, resolve (409 once done),
channels created, changed, deleted and tested, the webhook URL never in an answer."""

from __future__ import annotations

import json

import pytest

from aerostic.core.alerts import raise_alert, resolve_alert
from aerostic.core.models import Alert, AlertChannel, AuditEvent
from aerostic.core.tenant_context import tenant_context

pytestmark = pytest.mark.django_db

SLACK_URL = "https://hooks.slack.com/services/T0001/B0001/xoxSeCrEt42"


def _alert(workspace, key="token:1:expiring", **values):
    values.setdefault("title", "Token expires soon")
    return raise_alert(tenant=workspace.tenant, key=key, **values)


def _events(workspace, action):
    with tenant_context(workspace.tenant):
        return list(AuditEvent.objects.filter(action=action))


def test_list_is_paginated_and_filtered_by_state(alpha, bravo, api_client_for):
    _alert(alpha, key="open:1", title="Still open", level="critical")
    _alert(alpha, key="gone:1", title="Went away")
    resolve_alert(tenant=alpha.tenant, key="gone:1")
    _alert(bravo, key="open:1", title="Bravo's own")
    client = api_client_for(alpha.viewer)

    default = client.get("/api/v1/alerts/").json()
    resolved = client.get("/api/v1/alerts/?state=resolved").json()
    every = client.get("/api/v1/alerts/?state=all").json()

    assert default["count"] == 1 and default["next"] is None
    [row] = default["results"]
    assert row["title"] == "Still open" and row["level"] == "critical" and row["state"] == "open"
    assert row["acknowledged_by"] is None and row["resolved_by"] is None
    assert [row["title"] for row in resolved["results"]] == ["Went away"]
    assert resolved["results"][0]["state"] == "resolved" and resolved["results"][0]["resolved_by"] is None
    assert every["count"] == 2


def test_unknown_state_is_a_400(alpha, api_client_for):
    response = api_client_for(alpha.viewer).get("/api/v1/alerts/?state=closed")
    assert response.status_code == 400 and "open, resolved, all" in response.json()["detail"]


def test_detail_and_another_workspace_s_alert(alpha, bravo, api_client_for):
    alert = _alert(alpha, detail="Renew it in WhatsApp settings.")
    assert api_client_for(alpha.viewer).get(f"/api/v1/alerts/{alert.pk}/").json()["detail"] == (
        "Renew it in WhatsApp settings."
    )
    assert api_client_for(bravo.admin).get(f"/api/v1/alerts/{alert.pk}/").status_code == 404


def test_acknowledge_then_409_and_resolve_then_409(alpha, api_client_for):
    alert = _alert(alpha)
    client = api_client_for(alpha.admin)

    acknowledged = client.post(f"/api/v1/alerts/{alert.pk}/acknowledge/")
    again = client.post(f"/api/v1/alerts/{alert.pk}/acknowledge/")
    resolved = client.post(f"/api/v1/alerts/{alert.pk}/resolve/")
    resolved_again = client.post(f"/api/v1/alerts/{alert.pk}/resolve/")
    acknowledged_late = client.post(f"/api/v1/alerts/{alert.pk}/acknowledge/")

    assert acknowledged.status_code == 200
    assert acknowledged.json()["state"] == "acknowledged"
    assert acknowledged.json()["acknowledged_by"] == alpha.admin.user.email
    assert again.status_code == 409 and again.json()["detail"] == "This alert is already acknowledged."
    assert resolved.status_code == 200 and resolved.json()["resolved_by"] == alpha.admin.user.email
    assert resolved_again.status_code == 409 and resolved_again.json()["detail"] == "This alert is already resolved."
    assert acknowledged_late.status_code == 409 and "already resolved" in acknowledged_late.json()["detail"]
    assert len(_events(alpha, "alert.acknowledged")) == 1 and len(_events(alpha, "alert.resolved")) == 1


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_agent_may_read_but_not_act_on_alerts(alpha, api_client_for, action):
    alert = _alert(alpha)
    client = api_client_for(alpha.agent)
    assert client.get("/api/v1/alerts/").status_code == 200
    assert client.post(f"/api/v1/alerts/{alert.pk}/{action}/").status_code == 403
    with tenant_context(alpha.tenant):
        row = Alert.objects.get(pk=alert.pk)
    assert row.acknowledged_at is None and row.resolved_at is None


def test_anonymous_gets_401(client):
    assert client.get("/api/v1/alerts/").status_code == 401
    assert client.get("/api/v1/alert-channels/").status_code == 401


# --- channels


def _no_secret(response):
    assert "xoxSeCrEt42" not in response.content.decode()
    assert "slack_webhook_url" not in response.content.decode()


def test_channels_are_created_read_changed_and_deleted(alpha, api_client_for):
    client = api_client_for(alpha.admin)

    mail = client.post(
        "/api/v1/alert-channels/",
        {"name": "On-call", "kind": "email", "emails": ["ops@alpha.example", "owner@alpha.example"]},
        format="json",
    )
    slack = client.post(
        "/api/v1/alert-channels/",
        {"name": "#ops", "kind": "slack", "slack_webhook_url": SLACK_URL, "min_level": "critical"},
        format="json",
    )
    assert mail.status_code == 201 and slack.status_code == 201
    _no_secret(slack)
    assert mail.json()["emails"] == ["ops@alpha.example", "owner@alpha.example"]
    assert mail.json()["min_level"] == "warning" and mail.json()["enabled"] is True
    assert slack.json()["webhook_hint"] == "hooks.slack.com/…" and slack.json()["emails"] == []

    listing = client.get("/api/v1/alert-channels/")
    _no_secret(listing)
    assert [row["name"] for row in listing.json()] == ["#ops", "On-call"]

    slack_id = slack.json()["id"]
    changed = client.patch(f"/api/v1/alert-channels/{slack_id}/", {"enabled": False}, format="json")
    assert changed.status_code == 200 and changed.json()["enabled"] is False
    _no_secret(changed)
    with tenant_context(alpha.tenant):
        assert AlertChannel.objects.get(pk=slack_id).slack_webhook_url.reveal() == SLACK_URL

    assert client.delete(f"/api/v1/alert-channels/{mail.json()['id']}/").status_code == 204
    assert [row["name"] for row in client.get("/api/v1/alert-channels/").json()] == ["#ops"]
    assert len(_events(alpha, "alert_channel.created")) == 2
    assert [event.metadata["changes"] for event in _events(alpha, "alert_channel.changed")] == [
        {"enabled": [True, False]}
    ]
    assert len(_events(alpha, "alert_channel.deleted")) == 1
    for event in _events(alpha, "alert_channel.created"):
        assert "xoxSeCrEt42" not in json.dumps(event.metadata)


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"name": "x", "kind": "email", "emails": ["nope"]}, "emails"),
        ({"name": "x", "kind": "email", "emails": [f"p{n}@a.example" for n in range(11)]}, "emails"),
        ({"name": "x", "kind": "slack", "slack_webhook_url": "ftp://hooks.slack.com/x"}, "slack_webhook_url"),
        ({"name": "x", "kind": "slack"}, "slack_webhook_url"),
        ({"name": " ", "kind": "email", "emails": ["a@b.example"]}, "name"),
        ({"name": "x", "kind": "pager"}, "kind"),
    ],
    ids=["bad-address", "eleven", "ftp", "no-url", "blank-name", "bad-kind"],
)
def test_wrong_input_is_a_400_naming_the_field(alpha, api_client_for, body, where):
    response = api_client_for(alpha.admin).post("/api/v1/alert-channels/", body, format="json")
    assert response.status_code == 400
    answer = response.json()
    named = {problem["where"] for problem in answer.get("problems", [])} | set(answer)
    assert where in named
    with tenant_context(alpha.tenant):
        assert not AlertChannel.objects.exists()


def test_a_channel_keeps_its_kind(alpha, api_client_for):
    client = api_client_for(alpha.admin)
    created = client.post(
        "/api/v1/alert-channels/", {"name": "On-call", "kind": "email", "emails": ["a@b.example"]}, format="json"
    ).json()
    response = client.patch(f"/api/v1/alert-channels/{created['id']}/", {"kind": "slack"}, format="json")
    assert response.status_code == 400 and "keeps its kind" in response.json()["detail"]


def test_send_a_test_answers_200_or_502_with_the_reason(alpha, api_client_for, slack_receiver):
    client = api_client_for(alpha.admin)
    created = client.post(
        "/api/v1/alert-channels/",
        {"name": "#ops", "kind": "slack", "slack_webhook_url": slack_receiver.url},
        format="json",
    ).json()

    delivered = client.post(f"/api/v1/alert-channels/{created['id']}/test/")
    slack_receiver.status = 500
    failed = client.post(f"/api/v1/alert-channels/{created['id']}/test/")

    assert delivered.status_code == 200 and delivered.json()["delivered"] is True
    assert failed.status_code == 502 and failed.json() == {"delivered": False, "detail": "Slack answered 500"}
    assert len(slack_receiver.received) == 2
    assert slack_receiver.url.split("/")[-1] not in delivered.content.decode()


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("post", "test/"),  # not atomic: a refusal must not mark the test's transaction for rollback
    ],
)
def test_channels_are_for_settings_managers_of_the_workspace_only(
    alpha, bravo, api_client_for, mailoutbox, method, suffix
):
    created = (
        api_client_for(alpha.admin)
        .post("/api/v1/alert-channels/", {"name": "On-call", "kind": "email", "emails": ["a@b.example"]}, format="json")
        .json()
    )
    url = f"/api/v1/alert-channels/{created['id']}/{suffix}"

    refused = getattr(api_client_for(alpha.agent), method)(url, {"name": "Taken"}, format="json")
    foreign = getattr(api_client_for(bravo.admin), method)(url, {"name": "Taken"}, format="json")

    assert refused.status_code == 403 and foreign.status_code == 404
    assert api_client_for(alpha.viewer).get("/api/v1/alert-channels/").status_code == 403
    with tenant_context(alpha.tenant):
        assert AlertChannel.objects.get().name == "On-call"
    assert mailoutbox == []


def test_the_schema_describes_the_alert_routes(client):
    paths = client.get("/api/v1/schema/?format=json").json()["paths"]
    assert {
        "/api/v1/alerts/",
        "/api/v1/alerts/{alert_id}/acknowledge/",
        "/api/v1/alert-channels/",
        "/api/v1/alert-channels/{channel_id}/test/",
    } <= set(paths)
    channel_input = json.dumps(paths["/api/v1/alert-channels/"]["get"]["responses"])
    assert "slack_webhook_url" not in channel_input
