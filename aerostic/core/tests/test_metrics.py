"""/metrics: who may scrape it, and that what it says is read from the real stores (Redis counters,
the queues, the webhook event store, tokens, breakers, campaigns)."""

import time

import pytest
from django.test import Client
from django.utils import timezone

from aerostic.core import metrics
from aerostic.core.tenant_context import platform_context, tenant_context
from whatsapp.graph.breaker import CircuitBreaker
from whatsapp.models import AccessToken, WebhookEvent
from whatsapp.tests.factories import WhatsAppAccountFactory

pytestmark = pytest.mark.django_db


def _scrape(client=None, **headers) -> str:
    response = (client or Client(REMOTE_ADDR="127.0.0.1")).get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def _value(text: str, sample: str) -> float:
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{sample} not in the scrape")


def test_metrics_are_refused_until_configured_then_need_the_token_or_network(settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS = "", []
    response = Client(REMOTE_ADDR="127.0.0.1").get("/metrics")
    assert response.status_code == 403 and "METRICS_TOKEN" in response.json()["error"]
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS = "scrape-secret-1234", ["10.0.0.0/8"]
    outside = Client(REMOTE_ADDR="192.0.2.7")
    assert outside.get("/metrics").status_code == 401
    assert outside.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert "aerostic_queue_depth" in _scrape(outside, HTTP_AUTHORIZATION="Bearer scrape-secret-1234")
    assert "aerostic_queue_depth" in _scrape(Client(REMOTE_ADDR="10.2.3.4"))


def test_development_lets_this_machine_scrape_and_nobody_else(settings):
    assert settings.METRICS_ALLOWED_NETWORKS == ["127.0.0.0/8", "::1/128"] and not settings.METRICS_TOKEN
    assert "aerostic_http_request_duration_seconds_bucket" in _scrape()
    assert Client(REMOTE_ADDR="203.0.113.5").get("/metrics").status_code == 401


def test_platform_counters_add_up_across_calls_and_survive_in_redis():
    metrics.count("aerostic_sends", {("sent", ""): 5, ("failed", "131026"): 2})
    metrics.count("aerostic_sends", {("sent", ""): 1})
    metrics.count("aerostic_meta_throttled", {("131056",): 1})
    text = _scrape()
    assert _value(text, 'aerostic_sends_total{error_code="",outcome="sent"}') == 6
    assert _value(text, 'aerostic_sends_total{error_code="131026",outcome="failed"}') == 2
    assert _value(text, 'aerostic_meta_throttled_total{code="131056"}') == 1
    with pytest.raises(ValueError, match="not a declared counter"):
        metrics.count("aerostic_made_up", {("x",): 1})


def test_a_graph_401_is_counted(simulator, graph_client):
    from whatsapp.graph.errors import GraphError

    with pytest.raises(GraphError):
        graph_client(token="EAA-not-a-real-token-at-all").get_waba("123456789")
    assert _value(_scrape(), 'aerostic_graph_auth_errors_total{status="401"}') == 1


def test_queues_show_depth_and_the_oldest_jobs_age():
    from aerostic.core import queues

    queues.get_queue("low").enqueue("aerostic.core.jobs_periodic.purge_old_audit_events")
    time.sleep(1.1)
    text = _scrape()
    assert _value(text, 'aerostic_queue_depth{queue="low"}') == 1
    assert _value(text, 'aerostic_queue_depth{queue="webhooks"}') == 0
    assert 1 <= _value(text, 'aerostic_queue_oldest_job_age_seconds{queue="low"}') < 60
    assert _value(text, 'aerostic_queue_oldest_job_age_seconds{queue="webhooks"}') == 0


def test_webhook_backlog_tokens_breakers_and_campaigns_are_sampled(alpha):
    with platform_context("test"):
        WebhookEvent.all_tenants.create(body="{}", status=WebhookEvent.Status.DEAD)
        old = WebhookEvent.all_tenants.create(body="{}", status=WebhookEvent.Status.PENDING)
        WebhookEvent.all_tenants.filter(pk=old.pk).update(received_at=timezone.now() - timezone.timedelta(minutes=7))
    with tenant_context(alpha.tenant):
        account = WhatsAppAccountFactory()
        AccessToken.objects.create(
            tenant=alpha.tenant,
            account=account,
            token="EAAsecret" + "x" * 30,
            status=AccessToken.Status.EXPIRING,
            expires_at=timezone.now() + timezone.timedelta(days=3),
        )
    breaker = CircuitBreaker(f"waba:{account.waba_id}", threshold=1)
    breaker.record_failure()
    text = _scrape()
    assert _value(text, 'aerostic_webhook_events{status="dead"}') == 1
    assert _value(text, 'aerostic_webhook_events{status="pending"}') == 1
    assert 7 * 60 <= _value(text, "aerostic_webhook_processing_lag_seconds") < 8 * 60
    assert _value(text, 'aerostic_whatsapp_tokens{status="expiring"}') == 1
    assert 2.9 * 86400 < _value(text, "aerostic_whatsapp_token_soonest_expiry_seconds") <= 3 * 86400
    assert _value(text, 'aerostic_graph_circuit_breakers{state="open"}') == 1
    assert _value(text, 'aerostic_campaigns{status="running"}') == 0
    assert _value(text, 'aerostic_metrics_sampler_errors{sampler="campaigns"}') == 0
    assert "EAAsecret" not in text and account.waba_id not in text  # counts only, never ids or secrets


def test_a_failing_sampler_costs_its_own_series_not_the_scrape():
    def broken():
        raise RuntimeError("the store is away")

    metrics.register_sampler("broken", broken)
    try:
        text = _scrape()
    finally:
        metrics._SAMPLERS.pop("broken")
    assert _value(text, 'aerostic_metrics_sampler_errors{sampler="broken"}') == 1
    assert _value(text, 'aerostic_metrics_sampler_errors{sampler="queues"}') == 0
    assert "aerostic_webhook_events" in text


def test_the_shipped_alert_rules_and_dashboard_name_only_metrics_we_serve(alpha):
    import json
    import re
    from pathlib import Path

    import yaml

    deploy = Path(__file__).resolve().parents[3] / "deploy"
    rules = yaml.safe_load((deploy / "prometheus-alerts.yml").read_text())["groups"][0]["rules"]
    dashboard = json.loads((deploy / "grafana-dashboard.json").read_text())
    expressions = [rule["expr"] for rule in rules] + [
        target["expr"] for panel in dashboard["panels"] for target in panel["targets"]
    ]
    assert {rule["alert"] for rule in rules} >= {
        "AerosticWebhookFailureRate",
        "AerosticDeadWebhookEvents",
        "AerosticGraphAuthErrors",
        "AerosticTokenExpiringSoon",
        "AerosticQueueDepth",
        "AerosticQueueOldestJob",
        "AerosticStoresUnreachable",
    }
    assert all(rule["annotations"]["summary"] and rule["labels"]["severity"] for rule in rules)
    with tenant_context(alpha.tenant):
        account = WhatsAppAccountFactory()
        AccessToken.objects.create(
            tenant=alpha.tenant, account=account, token="EAAx" + "y" * 30, expires_at=timezone.now()
        )
    served = _scrape()
    named = {name for expression in expressions for name in re.findall(r"\baerostic_[a-z_]+", expression)}
    assert named and sorted(name for name in named if name not in served) == []


def test_a_malformed_allowed_network_stops_start_up_with_its_name(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from aerostic.core.config import env_networks

    monkeypatch.setenv("METRICS_ALLOWED_NETWORKS", "10.0.0.0/8, 192.168.1.300/24")
    with pytest.raises(ImproperlyConfigured, match="METRICS_ALLOWED_NETWORKS: '192.168.1.300/24' is not an IP network"):
        env_networks("METRICS_ALLOWED_NETWORKS", [])
    monkeypatch.setenv("METRICS_ALLOWED_NETWORKS", "10.0.0.0/8,::1")
    assert env_networks("METRICS_ALLOWED_NETWORKS", []) == ["10.0.0.0/8", "::1"]
