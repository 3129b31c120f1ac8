"""The Alerts page (tabs, times in the workspace's zone, acknowledge and resolve) and the alert
channels of the workspace's settings (add, edit, enable, delete, send a test), portal side."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.messages import get_messages

from aerostic.core.alerts import raise_alert, resolve_alert
from aerostic.core.models import Alert, AlertChannel, AuditEvent
from aerostic.core.tenant_context import tenant_context
from tenants.models import Tenant

pytestmark = pytest.mark.django_db

SLACK_URL = "https://hooks.slack.com/services/T0001/B0001/xoxSeCrEt42"


def _alert(workspace, key="token:1:expiring", **values):
    values.setdefault("title", "Token expires soon")
    return raise_alert(tenant=workspace.tenant, key=key, **values)


def _row(model, pk):
    with tenant_context(model.tenant_id):
        return type(model).objects.get(pk=pk)


def _events(workspace, action):
    with tenant_context(workspace.tenant):
        return list(AuditEvent.objects.filter(action=action))


def _flash(response):
    """The message this answer added (earlier ones, not yet shown, are still in the store)."""
    return [str(message) for message in get_messages(response.wsgi_request)][-1]


# --- the Alerts page


def test_viewer_sees_open_alerts_with_level_detail_and_times_in_the_workspace_zone(alpha, login_client):
    Tenant.objects.filter(pk=alpha.tenant.pk).update(timezone="Asia/Kolkata")
    alert = _alert(alpha, title="Quality rating is low", detail="Review recent templates.", level="critical")
    with tenant_context(alpha.tenant):
        Alert.objects.filter(pk=alert.pk).update(
            created_at=datetime(2025, 3, 1, 8, 0, tzinfo=UTC), updated_at=datetime(2025, 3, 2, 20, 0, tzinfo=UTC)
        )

    body = login_client(alpha.viewer).get("/alerts/").content.decode()

    assert "Quality rating is low" in body and "Review recent templates." in body
    assert 'class="badge badge-danger">Critical<' in body
    assert "Opened 1 Mar 2025 13:30" in body and "updated 3 Mar 2025 01:30" in body and "Asia/Kolkata" in body
    assert "Acknowledge</button>" not in body and "Resolve</button>" not in body  # a viewer only looks


def test_tabs_show_open_resolved_or_all(alpha, login_client):
    _alert(alpha, key="open:1", title="Still open")
    _alert(alpha, key="gone:1", title="Went away")
    resolve_alert(tenant=alpha.tenant, key="gone:1")
    client = login_client(alpha.viewer)

    open_page = client.get("/alerts/").content.decode()
    resolved_page = client.get("/alerts/?state=resolved").content.decode()
    all_page = client.get("/alerts/?state=all").content.decode()
    unknown = client.get("/alerts/?state=nonsense").content.decode()

    assert "Still open" in open_page and "Went away" not in open_page
    assert "Went away" in resolved_page and "Still open" not in resolved_page
    assert "Cleared by itself" in resolved_page
    assert "Still open" in all_page and "Went away" in all_page
    assert "Still open" in unknown and "Went away" not in unknown  # read as the open tab


def test_admin_acknowledges_an_alert_and_a_second_click_says_it_already_was(alpha, login_client):
    alert = _alert(alpha)
    client = login_client(alpha.admin)
    assert "Acknowledge</button>" in client.get("/alerts/").content.decode()

    first = client.post(f"/alerts/{alert.pk}/acknowledge/", {"next": "/alerts/?state=all"})
    second = client.post(f"/alerts/{alert.pk}/acknowledge/", {"next": "/alerts/?state=all"})

    assert first.status_code == 302 and first.url == "/alerts/?state=all"
    assert _flash(first) == "Acknowledged: Token expires soon."
    assert second.status_code == 302
    assert _flash(second) == "This alert was already acknowledged: Token expires soon."
    row = _row(alert, alert.pk)
    assert row.acknowledged_by_id == alpha.admin.user_id and row.resolved_at is None
    assert len(_events(alpha, "alert.acknowledged")) == 1
    page = client.get("/alerts/").content.decode()
    assert f"Acknowledged by {alpha.admin.user.email}" in page and "Acknowledge</button>" not in page


def test_admin_resolves_an_alert_and_a_second_click_says_it_already_was(alpha, login_client):
    alert = _alert(alpha)
    client = login_client(alpha.admin)

    first = client.post(f"/alerts/{alert.pk}/resolve/")
    second = client.post(f"/alerts/{alert.pk}/resolve/")
    acknowledged_late = client.post(f"/alerts/{alert.pk}/acknowledge/")

    assert first.status_code == 302 and first.url == "/alerts/"
    assert _flash(first) == "Resolved: Token expires soon."
    assert _flash(second) == "This alert was already resolved: Token expires soon."
    assert _flash(acknowledged_late) == "This alert was already resolved: Token expires soon."
    assert _row(alert, alert.pk).resolved_by_id == alpha.admin.user_id
    assert len(_events(alpha, "alert.resolved")) == 1
    assert f"Resolved by {alpha.admin.user.email}" in client.get("/alerts/?state=resolved").content.decode()


def test_redirect_back_stays_on_this_site(alpha, login_client):
    alert = _alert(alpha)
    response = login_client(alpha.admin).post(f"/alerts/{alert.pk}/acknowledge/", {"next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == "/alerts/"


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_agent_may_not_acknowledge_or_resolve(alpha, login_client, action):
    alert = _alert(alpha)
    response = login_client(alpha.agent).post(f"/alerts/{alert.pk}/{action}/")
    assert response.status_code == 403
    row = _row(alert, alert.pk)
    assert row.acknowledged_at is None and row.resolved_at is None


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_another_workspace_s_alert_is_not_found(alpha, bravo, login_client, action):
    alert = _alert(alpha)
    response = login_client(bravo.admin).post(f"/alerts/{alert.pk}/{action}/")
    assert response.status_code == 404
    row = _row(alert, alert.pk)
    assert row.acknowledged_at is None and row.resolved_at is None


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/alerts/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_dashboard_alert_box_and_settings_link_to_the_alerts_page(alpha, login_client):
    _alert(alpha)
    client = login_client(alpha.admin)
    assert 'href="/alerts/">All alerts</a>' in client.get("/").content.decode()
    settings_page = client.get("/settings/").content.decode()
    assert 'href="/alerts/"' in settings_page and 'href="/settings/alerts/"' in settings_page


# --- alert channels


def _add(client, **values):
    data = {"name": "On-call", "kind": "email", "emails": "ops@alpha.example", "min_level": "warning", "enabled": "on"}
    data.update(values)
    return client.post("/settings/alerts/", data)


def _channel(workspace, **filters):
    with tenant_context(workspace.tenant):
        return AlertChannel.objects.get(**filters)


def test_admin_adds_an_email_channel_and_it_is_listed_and_audited(alpha, login_client):
    client = login_client(alpha.admin)
    response = _add(client, emails="ops@alpha.example; Owner@alpha.example, ops@alpha.example")

    assert response.status_code == 302 and response.url == "/settings/alerts/"
    channel = _channel(alpha, name="On-call")
    assert channel.kind == "email" and channel.emails == "ops@alpha.example, Owner@alpha.example"
    assert channel.enabled and channel.min_level == "warning"
    [event] = _events(alpha, "alert_channel.created")
    assert event.metadata["kind"] == "email" and event.actor_id == alpha.admin.user_id
    page = client.get("/settings/alerts/").content.decode()
    assert "On-call" in page and "ops@alpha.example, Owner@alpha.example" in page and "Last delivered: never" in page


@pytest.mark.parametrize(
    ("emails", "problem"),
    [
        ("not-an-address", "is not an e-mail address"),
        ("", "at least one e-mail address"),
        (",".join(f"p{n}@alpha.example" for n in range(11)), "At most 10 addresses"),
    ],
    ids=["invalid", "none", "eleven"],
)
def test_wrong_addresses_are_a_form_error_and_nothing_is_stored(alpha, login_client, emails, problem):
    response = _add(login_client(alpha.admin), emails=emails)
    assert response.status_code == 400 and problem in response.content.decode()
    with tenant_context(alpha.tenant):
        assert not AlertChannel.objects.exists()
    assert _events(alpha, "alert_channel.created") == []


def test_slack_webhook_is_stored_encrypted_and_never_shown_back(alpha, login_client):
    client = login_client(alpha.admin)
    response = _add(client, name="#ops", kind="slack", emails="", slack_webhook_url=SLACK_URL)
    assert response.status_code == 302
    channel = _channel(alpha, name="#ops")
    assert channel.slack_webhook_url.reveal() == SLACK_URL

    listing = client.get("/settings/alerts/").content.decode()
    edit = client.get(f"/settings/alerts/{channel.pk}/").content.decode()
    for page in (listing, edit):
        assert "xoxSeCrEt42" not in page
        assert "T0001/B0001" not in page
        assert "hooks.slack.com/…" in page
    [event] = _events(alpha, "alert_channel.created")
    assert "xoxSeCrEt42" not in str(event.metadata)


@pytest.mark.parametrize(
    ("deployed", "url", "accepted"),
    [
        (False, "http://127.0.0.1:9999/hook", True),
        (True, "http://hooks.slack.com/services/x", False),
        (True, SLACK_URL, True),
        (True, "https://10.0.0.5/hook", False),
        (True, "https://localhost/hook", False),
        (False, "ftp://hooks.slack.com/x", False),
        (False, "https://user:pw@hooks.slack.com/x", False),
    ],
    ids=["dev-http", "deployed-http", "deployed-https", "deployed-ip", "deployed-localhost", "ftp", "credentials"],
)
def test_webhook_url_rules(alpha, login_client, settings, deployed, url, accepted):
    settings.IS_DEPLOYED = deployed
    response = _add(login_client(alpha.admin), kind="slack", emails="", slack_webhook_url=url)
    assert response.status_code == (302 if accepted else 400)
    with tenant_context(alpha.tenant):
        assert AlertChannel.objects.exists() == accepted


def test_editing_keeps_the_webhook_when_left_empty_and_replaces_it_when_given(alpha, login_client):
    client = login_client(alpha.admin)
    _add(client, name="#ops", kind="slack", emails="", slack_webhook_url=SLACK_URL)
    channel = _channel(alpha, name="#ops")

    renamed = client.post(
        f"/settings/alerts/{channel.pk}/", {"name": "#incidents", "min_level": "critical", "enabled": "on"}
    )
    assert renamed.status_code == 302
    channel = _channel(alpha, pk=channel.pk)
    assert (channel.name, channel.min_level) == ("#incidents", "critical")
    assert channel.slack_webhook_url.reveal() == SLACK_URL

    new_url = "https://hooks.slack.com/services/T0001/B0002/another"
    client.post(
        f"/settings/alerts/{channel.pk}/",
        {"name": "#incidents", "min_level": "critical", "enabled": "on", "slack_webhook_url": new_url},
    )
    assert _channel(alpha, pk=channel.pk).slack_webhook_url.reveal() == new_url
    first, second = sorted(_events(alpha, "alert_channel.changed"), key=lambda event: event.pk)
    assert first.metadata["changes"] == {"name": ["#ops", "#incidents"], "min_level": ["warning", "critical"]}
    assert second.metadata == {"name": "#incidents", "changes": {}, "webhook": "replaced"}
    assert "another" not in str(second.metadata)


def test_editing_with_a_wrong_address_is_a_form_error(alpha, login_client):
    client = login_client(alpha.admin)
    _add(client)
    channel = _channel(alpha, name="On-call")
    response = client.post(
        f"/settings/alerts/{channel.pk}/", {"name": "On-call", "emails": "nope", "min_level": "warning"}
    )
    assert response.status_code == 400 and "is not an e-mail address" in response.content.decode()
    assert _channel(alpha, pk=channel.pk).emails == "ops@alpha.example"


def test_admin_disables_enables_and_deletes_a_channel(alpha, login_client):
    client = login_client(alpha.admin)
    _add(client)
    channel = _channel(alpha, name="On-call")

    client.post(f"/settings/alerts/{channel.pk}/enabled/", {"enabled": "0"})
    assert not _channel(alpha, pk=channel.pk).enabled
    assert "Enable</button>" in client.get("/settings/alerts/").content.decode()
    client.post(f"/settings/alerts/{channel.pk}/enabled/", {"enabled": "1"})
    assert _channel(alpha, pk=channel.pk).enabled
    deleted = client.post(f"/settings/alerts/{channel.pk}/delete/")

    assert deleted.status_code == 302
    with tenant_context(alpha.tenant):
        assert not AlertChannel.objects.exists()
    changes = [event.metadata["changes"] for event in _events(alpha, "alert_channel.changed")]
    assert sorted(map(str, changes)) == sorted(map(str, [{"enabled": [True, False]}, {"enabled": [False, True]}]))
    assert len(_events(alpha, "alert_channel.deleted")) == 1


def test_send_a_test_to_slack_reports_success_or_the_failure(alpha, login_client, slack_receiver):
    client = login_client(alpha.admin)
    _add(client, name="#ops", kind="slack", emails="", slack_webhook_url=slack_receiver.url)
    channel = _channel(alpha, name="#ops")

    delivered = client.post(f"/settings/alerts/{channel.pk}/test/")
    slack_receiver.status = 404
    refused = client.post(f"/settings/alerts/{channel.pk}/test/")

    assert delivered.status_code == 302 and _flash(delivered) == "A test notice went to #ops."
    assert "[Aerostic] Test notice" in slack_receiver.received[0]["text"]
    assert _flash(refused) == "The test notice to #ops was not delivered: Slack answered 404."


def test_send_a_test_email(alpha, login_client, mailoutbox):
    client = login_client(alpha.admin)
    _add(client, emails="ops@alpha.example, owner@alpha.example")
    channel = _channel(alpha, name="On-call")
    response = client.post(f"/settings/alerts/{channel.pk}/test/")
    assert _flash(response) == "A test notice went to On-call."
    [mail] = mailoutbox
    assert mail.to == ["ops@alpha.example", "owner@alpha.example"] and mail.subject == "[Aerostic] Test notice"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/settings/alerts/"),
        ("post", "/settings/alerts/"),
        ("get", "/settings/alerts/{pk}/"),
        ("post", "/settings/alerts/{pk}/"),
        ("post", "/settings/alerts/{pk}/enabled/"),
        ("post", "/settings/alerts/{pk}/delete/"),
        ("post", "/settings/alerts/{pk}/test/"),
    ],
)
def test_channels_are_for_settings_managers_of_the_workspace_only(alpha, bravo, login_client, mailoutbox, method, path):
    _add(login_client(alpha.admin))
    channel = _channel(alpha, name="On-call")
    url = path.format(pk=channel.pk)
    data = {"name": "Taken over", "kind": "email", "emails": "x@evil.example", "min_level": "info", "enabled": "0"}

    refused = getattr(login_client(alpha.agent), method)(url, data if method == "post" else None)
    foreign = getattr(login_client(bravo.admin), method)(url, data if method == "post" else None)

    assert refused.status_code == 403
    if "{pk}" in path:
        assert foreign.status_code == 404
    else:
        assert "ops@alpha.example" not in foreign.content.decode()
    unchanged = _channel(alpha, pk=channel.pk)
    assert (unchanged.name, unchanged.emails, unchanged.enabled) == ("On-call", "ops@alpha.example", True)
    with tenant_context(alpha.tenant):
        assert AlertChannel.objects.count() == 1
    assert mailoutbox == []
