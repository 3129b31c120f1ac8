"""WhatsApp's alert rules fire and recover: webhook failure rate, dead events, a send failure spike,
tokens about to expire (per workspace)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from django.utils import timezone

from aerostic.core import alert_rules, metrics
from aerostic.core.alert_rules import evaluate_rules
from aerostic.core.models import Alert
from aerostic.core.tenant_context import platform_context, tenant_context
from whatsapp.models import AccessToken, WebhookEvent
from whatsapp.tests.factories import WhatsAppAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _open(prefix):
    with platform_context("test"):
        return list(Alert.all_tenants.filter(key__startswith=prefix, resolved_at=None))


@pytest.fixture
def thresholds(settings):
    def set_thresholds(**changes):
        settings.ALERT_THRESHOLDS = replace(settings.ALERT_THRESHOLDS, **changes)

    return set_thresholds


def _events(count, **fields):
    with platform_context("test"):
        WebhookEvent.all_tenants.bulk_create([WebhookEvent(body="{}", **fields) for _ in range(count)])


def test_the_webhook_failure_rate_fires_above_its_threshold_and_clears_when_the_window_moves_on(thresholds):
    thresholds(webhook_failure_percent=5, webhook_failure_min_events=20, window_minutes=5)
    _events(95, status=WebhookEvent.Status.PROCESSED)
    _events(5, status=WebhookEvent.Status.PENDING, last_error="OperationalError: the database is gone")
    assert evaluate_rules(["webhook-failures"]) == {"webhook-failures": (0, 0)}  # 5 %: not above

    _events(1, status=WebhookEvent.Status.DEAD, last_error="KeyError: 'entry'")
    assert evaluate_rules(["webhook-failures"]) == {"webhook-failures": (1, 0)}
    [alert] = _open("rule:webhook-failures:")
    assert alert.title == "Webhook processing failing: 6 % of the events of the last 5 minutes"
    assert "6 of 101 webhook events" in alert.detail and alert.tenant_id is None

    with platform_context("test"):  # ten minutes on: the failed events are out of the window
        WebhookEvent.all_tenants.update(received_at=timezone.now() - timedelta(minutes=10))
    assert evaluate_rules(["webhook-failures"]) == {"webhook-failures": (0, 1)}


def test_too_few_events_make_no_rate(thresholds):
    thresholds(webhook_failure_min_events=20)
    _events(3, status=WebhookEvent.Status.DEAD, last_error="boom")
    assert evaluate_rules(["webhook-failures"]) == {"webhook-failures": (0, 0)}


def test_dead_webhook_events_fire_until_none_is_left(thresholds):
    thresholds(dead_webhook_events=0)
    assert evaluate_rules(["dead-webhooks"]) == {"dead-webhooks": (0, 0)}
    _events(2, status=WebhookEvent.Status.DEAD, last_error="boom")
    assert evaluate_rules(["dead-webhooks"]) == {"dead-webhooks": (1, 0)}
    assert _open("rule:dead-webhooks:")[0].title == "2 dead webhook events"
    _events(1, status=WebhookEvent.Status.DEAD, last_error="boom")
    evaluate_rules(["dead-webhooks"])
    assert _open("rule:dead-webhooks:")[0].title == "3 dead webhook events"  # refreshed, still one alert
    with platform_context("test"):  # staff replayed them
        WebhookEvent.all_tenants.update(status=WebhookEvent.Status.PROCESSED)
    assert evaluate_rules(["dead-webhooks"]) == {"dead-webhooks": (0, 1)}


def test_a_send_failure_spike_fires_with_meta_codes_and_clears(monkeypatch, thresholds):
    now = [1_800_000_000.0]
    monkeypatch.setattr(alert_rules.time, "time", lambda: now[0])
    thresholds(send_failure_percent=20, send_failure_min_sends=20, window_minutes=5)
    evaluate_rules(["send-failures"])  # the first look: the baseline
    now[0] += 60
    metrics.count("aerostic_sends", {("sent", ""): 70, ("failed", "131026"): 20, ("failed", "131049"): 10})
    assert evaluate_rules(["send-failures"]) == {"send-failures": (1, 0)}
    [alert] = _open("rule:send-failures:")
    assert alert.title == "Send failures: 30 % in the last 5 minutes"
    assert "30 of 100 sends failed (Meta error codes: 131026 ×20, 131049 ×10)" in alert.detail

    now[0] += 6 * 60  # the window moved on; since then, sends went well
    metrics.count("aerostic_sends", {("sent", ""): 50})
    assert evaluate_rules(["send-failures"]) == {"send-failures": (0, 1)}


def test_tokens_expiring_within_the_threshold_warn_their_workspace_and_clear_when_renewed(alpha, bravo, thresholds):
    thresholds(token_expiry_days=7)
    with tenant_context(alpha.tenant):
        account = WhatsAppAccountFactory(name="Alpha Shop")
        token = AccessToken.objects.create(
            tenant=alpha.tenant, account=account, token="EAA" + "x" * 40, expires_at=timezone.now() + timedelta(days=3)
        )
    with tenant_context(bravo.tenant):
        far = WhatsAppAccountFactory()
        AccessToken.objects.create(
            tenant=bravo.tenant, account=far, token="EAA" + "y" * 40, expires_at=timezone.now() + timedelta(days=30)
        )

    assert evaluate_rules(["token-expiry"]) == {"token-expiry": (1, 0)}
    [alert] = _open("rule:token-expiry:")
    assert alert.tenant_id == alpha.tenant.pk and alert.level == "warning"
    assert alert.title.startswith("WhatsApp token of Alpha Shop (") and " expires 20" in alert.title

    with tenant_context(alpha.tenant):
        AccessToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    evaluate_rules(["token-expiry"])
    [alert] = _open("rule:token-expiry:")
    assert alert.level == "critical" and "has expired" in alert.title

    with tenant_context(alpha.tenant):  # rotated: a new current token far from expiry
        AccessToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() + timedelta(days=60))
    assert evaluate_rules(["token-expiry"]) == {"token-expiry": (0, 1)}
