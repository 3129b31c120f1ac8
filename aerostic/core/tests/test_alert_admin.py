"""Platform console: alerts show who handled them and where their notices stand, staff acknowledge
them through the service (audited); the workspaces' alert channels are read-only, the webhook URL
never on a page."""

import pytest
from django.contrib import admin
from django.urls import reverse

from aerostic.core.admin_site import ReadOnlyAdmin
from aerostic.core.alerts import raise_alert
from aerostic.core.models import Alert, AlertChannel, AuditEvent
from aerostic.core.tenant_context import platform_context, tenant_context
from aerostic.core.tests.admin_forms import staff_client

pytestmark = pytest.mark.django_db

SLACK_URL = "https://hooks.slack.com/services/T0001/B0001/xoxSeCrEt42"


def test_staff_acknowledge_alerts_through_the_service_and_it_is_audited(alpha):
    alert = raise_alert(tenant=alpha.tenant, key="token:1:expiring", title="Token expires soon")
    client = staff_client()

    response = client.post(
        reverse("admin:core_alert_changelist"), {"action": "acknowledge", "_selected_action": [str(alert.pk)]}
    )

    assert response.status_code == 302
    with platform_context("test"):
        row = Alert.all_tenants.get(pk=alert.pk)
        [event] = AuditEvent.all_tenants.filter(action="alert.acknowledged")
    assert row.acknowledged_by.email == "ops@platform.test" and row.resolved_at is None
    assert event.tenant_id == alpha.tenant.pk and event.metadata == {"key": "token:1:expiring"}


def test_alert_page_shows_who_handled_it_and_the_notice_state(alpha):
    alert = raise_alert(tenant=alpha.tenant, key="quality:1", title="Quality low")
    with platform_context("test"):
        Alert.all_tenants.filter(pk=alert.pk).update(notice_error="ops@x: e-mail not sent: SMTPException")
    client = staff_client()
    client.post(reverse("admin:core_alert_changelist"), {"action": "acknowledge", "_selected_action": [str(alert.pk)]})

    listing = client.get(reverse("admin:core_alert_changelist")).content.decode()
    page = client.get(reverse("admin:core_alert_change", args=[alert.pk])).content.decode()

    assert "failing: ops@x: e-mail not sent: SMTPException" in listing
    for label in ("Acknowledged by", "Resolved by", "Notice error", "Notice attempts", "Recovery notified at"):
        assert label in page
    assert "ops@platform.test" in page


def test_alert_channels_are_listed_read_only_without_the_webhook_url(alpha):
    with tenant_context(alpha.tenant):
        channel = AlertChannel.objects.create(name="#ops", kind="slack", slack_webhook_url=SLACK_URL)
        AlertChannel.objects.create(name="On-call", kind="email", emails="ops@alpha.example")
    client = staff_client()

    listing = client.get(reverse("admin:core_alertchannel_changelist") + "?kind__exact=slack").content.decode()
    page = client.get(reverse("admin:core_alertchannel_change", args=[channel.pk])).content.decode()

    assert "#ops" in listing and "On-call" not in listing
    assert "xoxSeCrEt42" not in listing and "xoxSeCrEt42" not in page
    with platform_context("test"):
        sealed = AlertChannel.all_tenants.get(pk=channel.pk).slack_webhook_url.ciphertext
    assert sealed not in page
    assert "hooks.slack.com/…" in page
    model_admin = admin.site._registry[AlertChannel]
    assert isinstance(model_admin, ReadOnlyAdmin)
    assert "tenant" in model_admin.list_filter and "kind" in model_admin.list_filter
