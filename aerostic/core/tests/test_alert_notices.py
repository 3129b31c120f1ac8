"""Alert notices reach people: e-mail (a real SMTP server) and Slack (a local webhook receiver),
once per open alert, once more when it clears, retried when a channel fails."""

from __future__ import annotations

import pytest

from aerostic.core.alert_notices import deliver_notices, send_test
from aerostic.core.alerts import raise_alert, resolve_alert
from aerostic.core.models import Alert, AlertChannel
from aerostic.core.tenant_context import platform_context, tenant_context

pytestmark = pytest.mark.django_db(transaction=True)


def _channels(tenant, slack_url, *, emails="ops@alpha.example, owner@alpha.example", min_level="warning"):
    with tenant_context(tenant):
        AlertChannel.objects.create(name="Ops mail", kind="email", emails=emails, min_level=min_level)
        AlertChannel.objects.create(name="Ops Slack", kind="slack", slack_webhook_url=slack_url, min_level=min_level)


def _alert(pk):
    with platform_context("test"):
        return Alert.all_tenants.get(pk=pk)


def test_a_workspace_alert_is_told_once_to_its_channels_and_once_when_it_clears(
    alpha, bravo, slack_receiver, smtp_receiver
):
    _channels(alpha.tenant, slack_receiver.url)
    _channels(bravo.tenant, slack_receiver.url + "-bravo", emails="ops@bravo.example")
    alert = raise_alert(
        tenant=alpha.tenant, key="quality:1", title="+1 555: quality rating is low", level="critical", detail="Review."
    )

    assert deliver_notices() == {"sent": 1, "failed": 0, "given_up": 0}
    [mail] = smtp_receiver.messages
    assert mail["Subject"] == "[Aerostic] Critical: +1 555: quality rating is low"
    assert mail["X-Envelope-To"] == "ops@alpha.example, owner@alpha.example"
    assert "Review." in mail.get_payload()
    [slack] = slack_receiver.received
    assert slack["text"].startswith("*[Aerostic] Critical: +1 555: quality rating is low*")
    assert _alert(alert.pk).notified_at is not None

    # Raised again while open: the same alert, refreshed, and nobody is told twice.
    raise_alert(tenant=alpha.tenant, key="quality:1", title="+1 555: quality rating is low", level="critical")
    assert deliver_notices() == {"sent": 0, "failed": 0, "given_up": 0}
    assert len(smtp_receiver.messages) == 1 and len(slack_receiver.received) == 1

    resolve_alert(tenant=alpha.tenant, key="quality:1")
    assert deliver_notices()["sent"] == 1
    assert smtp_receiver.messages[1]["Subject"] == "[Aerostic] Resolved: +1 555: quality rating is low"
    assert slack_receiver.received[1]["text"].startswith("*[Aerostic] Resolved:")
    assert _alert(alert.pk).recovery_notified_at is not None
    assert deliver_notices()["sent"] == 0
    assert all("bravo" not in message["X-Envelope-To"] for message in smtp_receiver.messages)
    with tenant_context(alpha.tenant):
        assert AlertChannel.objects.filter(last_delivered_at__isnull=False, last_error="").count() == 2


def test_platform_alerts_go_to_the_platform_channels_from_settings(settings, alpha, slack_receiver, smtp_receiver):
    settings.ALERT_EMAILS = ["oncall@platform.example"]
    settings.ALERT_SLACK_WEBHOOK_URL = slack_receiver.url
    _channels(alpha.tenant, slack_receiver.url + "-alpha")
    raise_alert(tenant=None, key="orphan-waba:1", title="Orphan WABA 1", level="warning")

    assert deliver_notices()["sent"] == 1
    [mail] = smtp_receiver.messages
    assert mail["X-Envelope-To"] == "oncall@platform.example" and "the platform" in mail.get_payload()
    [slack] = slack_receiver.received
    assert "Orphan WABA 1" in slack["text"]


def test_a_channel_below_its_level_is_not_told_and_a_blip_is_never_told(alpha, slack_receiver, smtp_receiver):
    _channels(alpha.tenant, slack_receiver.url, min_level="critical")
    raise_alert(tenant=alpha.tenant, key="name:1", title="Display name rejected", level="warning")
    assert deliver_notices()["sent"] == 1  # told to every channel that wants it: none
    assert smtp_receiver.messages == [] and slack_receiver.received == []

    raise_alert(tenant=alpha.tenant, key="tier:1", title="Limit lowered", level="critical")
    resolve_alert(tenant=alpha.tenant, key="tier:1")  # cleared before the deliverer ran
    assert deliver_notices() == {"sent": 0, "failed": 0, "given_up": 0}
    assert smtp_receiver.messages == [] and slack_receiver.received == []


def test_a_failing_channel_is_retried_then_given_up_with_its_reason(settings, alpha, slack_receiver):
    from dataclasses import replace

    settings.ALERT_THRESHOLDS = replace(settings.ALERT_THRESHOLDS, notice_max_attempts=3)
    with tenant_context(alpha.tenant):
        AlertChannel.objects.create(name="Ops Slack", kind="slack", slack_webhook_url=slack_receiver.url)
    slack_receiver.status = 500
    alert = raise_alert(tenant=alpha.tenant, key="account:1", title="Account restricted", level="critical")

    assert deliver_notices() == {"sent": 0, "failed": 1, "given_up": 0}
    stored = _alert(alert.pk)
    assert stored.notified_at is None and stored.notice_error == "Ops Slack: Slack answered 500"
    assert stored.notice_claimed_at is None
    with tenant_context(alpha.tenant):
        assert AlertChannel.objects.get().last_error == "Slack answered 500"

    assert deliver_notices()["failed"] == 1  # tried again at the next run
    assert deliver_notices() == {"sent": 0, "failed": 0, "given_up": 1}
    assert _alert(alert.pk).notified_at is not None
    assert len(slack_receiver.received) == 3

    slack_receiver.status = 200
    resolve_alert(tenant=alpha.tenant, key="account:1")
    assert deliver_notices()["sent"] == 1  # the recovery has its own tries


def test_send_test_reaches_the_channel_or_says_why_not(alpha, slack_receiver, smtp_receiver):
    from aerostic.core.alert_notices import NoticeFailed

    with tenant_context(alpha.tenant):
        slack = AlertChannel.objects.create(name="Ops", kind="slack", slack_webhook_url=slack_receiver.url)
        mail = AlertChannel.objects.create(name="Mail", kind="email", emails="a@alpha.example")
        dead = AlertChannel.objects.create(name="Dead", kind="slack", slack_webhook_url="http://127.0.0.1:9/x")
    send_test(slack)
    send_test(mail)
    assert "test of the alert channel 'Ops'" in slack_receiver.received[0]["text"]
    assert smtp_receiver.messages[0]["Subject"] == "[Aerostic] Test notice"
    with pytest.raises(NoticeFailed, match="Slack unreachable"):
        send_test(dead)


def test_the_slack_url_is_stored_encrypted(alpha, slack_receiver):
    from django.db import connection

    with tenant_context(alpha.tenant):
        channel = AlertChannel.objects.create(name="Ops", kind="slack", slack_webhook_url=slack_receiver.url)
        with connection.cursor() as cursor:
            cursor.execute("SELECT slack_webhook_url FROM core_alertchannel WHERE id = %s", [channel.pk])
            [(stored,)] = cursor.fetchall()
    assert "secret" not in stored and "127.0.0.1" not in stored


def test_deployed_a_webhook_to_a_private_address_or_plain_http_is_refused(settings, alpha):
    from aerostic.core.alert_notices import NoticeFailed

    settings.IS_DEPLOYED = True
    with tenant_context(alpha.tenant):
        inside = AlertChannel.objects.create(name="In", kind="slack", slack_webhook_url="https://127.0.0.1/hook")
        metadata = AlertChannel.objects.create(name="Meta", kind="slack", slack_webhook_url="https://169.254.169.254/x")
        plain = AlertChannel.objects.create(name="Plain", kind="slack", slack_webhook_url="http://hooks.slack.com/x")
    for channel, reason in ((inside, "not a public address"), (metadata, "not a public address"), (plain, "https://")):
        with pytest.raises(NoticeFailed, match=reason):
            send_test(channel)
