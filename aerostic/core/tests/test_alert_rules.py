"""The platform's alert rules fire and recover: queues, Graph 401/403 (a real 401 from the
simulator), Meta's throttling; the rules' job delivers the notices; a failing rule changes nothing."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from aerostic.core import alert_rules, metrics, queues
from aerostic.core.alert_rules import evaluate_rules
from aerostic.core.alerts import Firing, alerts_sync, raise_alert
from aerostic.core.models import Alert
from aerostic.core.tenant_context import platform_context

pytestmark = pytest.mark.django_db(transaction=True)


def _open(prefix):
    with platform_context("test"):
        return {alert.key: alert for alert in Alert.all_tenants.filter(key__startswith=prefix, resolved_at=None)}


def _resolved(prefix):
    with platform_context("test"):
        return Alert.all_tenants.filter(key__startswith=prefix).exclude(resolved_at=None).count()


@pytest.fixture
def thresholds(settings):
    def set_thresholds(**changes):
        settings.ALERT_THRESHOLDS = replace(settings.ALERT_THRESHOLDS, **changes)

    return set_thresholds


class Clock:
    def __init__(self, monkeypatch):
        self.now = 1_800_000_000.0
        monkeypatch.setattr(alert_rules.time, "time", lambda: self.now)

    def advance(self, minutes):
        self.now += minutes * 60


def test_a_deep_queue_and_an_old_job_fire_and_clear_when_the_queue_drains(thresholds):
    thresholds(queue_depth=2, queue_oldest_seconds=0)
    low = queues.get_queue("low")
    for _ in range(3):
        low.enqueue("aerostic.core.jobs_periodic.purge_old_audit_events")
    time.sleep(1.1)  # an age above the threshold of 0

    assert evaluate_rules(["queues"]) == {"queues": (2, 0)}
    fired = _open("rule:queues:")
    assert set(fired) == {"rule:queues:low:depth", "rule:queues:low:age"}
    assert fired["rule:queues:low:depth"].title == "Queue low: 3 jobs waiting"
    assert fired["rule:queues:low:depth"].level == "critical" and fired["rule:queues:low:depth"].tenant_id is None

    assert evaluate_rules(["queues"]) == {"queues": (0, 0)}  # still true: the same alerts, nobody told twice
    low.empty()
    assert evaluate_rules(["queues"]) == {"queues": (0, 2)}
    assert _open("rule:queues:") == {} and _resolved("rule:queues:") == 2


def test_a_graph_401_from_the_simulator_fires_and_clears_after_the_quiet_period(
    monkeypatch, simulator, graph_client, thresholds
):
    from whatsapp.graph.errors import GraphError

    clock = Clock(monkeypatch)
    thresholds(quiet_minutes=15)
    assert evaluate_rules(["graph-auth"]) == {"graph-auth": (0, 0)}  # the first look: the baseline
    clock.advance(1)
    with pytest.raises(GraphError):
        graph_client(token="EAA-not-a-real-token-at-all").get_waba("123456789")

    assert evaluate_rules(["graph-auth"]) == {"graph-auth": (1, 0)}
    [alert] = _open("rule:graph-auth:").values()
    assert alert.title == "Meta refused calls with 401/403" and alert.level == "critical"

    clock.advance(10)
    assert evaluate_rules(["graph-auth"]) == {"graph-auth": (0, 0)}  # within the quiet period
    clock.advance(6)
    assert evaluate_rules(["graph-auth"]) == {"graph-auth": (0, 1)}  # 15 minutes without a refusal
    assert _open("rule:graph-auth:") == {}


def test_meta_throttling_fires_while_it_happens(monkeypatch, thresholds):
    clock = Clock(monkeypatch)
    thresholds(quiet_minutes=5)
    evaluate_rules(["meta-throttled"])
    clock.advance(1)
    metrics.count("aerostic_meta_throttled", {("130429",): 3})
    assert evaluate_rules(["meta-throttled"]) == {"meta-throttled": (1, 0)}
    clock.advance(2)
    metrics.count("aerostic_meta_throttled", {("130429",): 1})  # again: the same alert stays open
    assert evaluate_rules(["meta-throttled"]) == {"meta-throttled": (0, 0)}
    clock.advance(4)
    assert evaluate_rules(["meta-throttled"]) == {"meta-throttled": (0, 0)}  # 4 minutes since the last
    clock.advance(2)
    assert evaluate_rules(["meta-throttled"]) == {"meta-throttled": (0, 1)}


def test_a_failing_rule_leaves_its_alerts_as_they_were(monkeypatch):
    alerts_sync(prefix="rule:queues:", firing=[Firing(None, "rule:queues:low:depth", "Queue low: 5 jobs waiting")])

    def broken():
        raise ConnectionError("Redis went away")

    monkeypatch.setattr(metrics, "queue_samples", broken)
    assert evaluate_rules(["queues"]) == {"queues": "error"}
    assert set(_open("rule:queues:")) == {"rule:queues:low:depth"}


def test_alerts_sync_refreshes_changed_text_and_keeps_to_its_prefix(alpha):
    raise_alert(tenant=alpha.tenant, key="quality:1", title="Not the rule's")
    alerts_sync(prefix="rule:x:", firing=[Firing(alpha.tenant.pk, "rule:x:1", "Three waiting")])
    alerts_sync(prefix="rule:x:", firing=[Firing(alpha.tenant.pk, "rule:x:1", "Four waiting", level="critical")])
    [alert] = _open("rule:x:").values()
    assert (alert.title, alert.level, alert.tenant_id) == ("Four waiting", "critical", alpha.tenant.pk)
    alerts_sync(prefix="rule:x:", firing=[])
    assert _open("rule:x:") == {} and set(_open("quality:")) == {"quality:1"}
    with pytest.raises(ValueError, match="starts with"):
        alerts_sync(prefix="rule:x:", firing=[Firing(None, "quality:2", "Not mine")])


def test_the_rules_job_runs_every_rule_and_delivers_the_notices(settings, thresholds, slack_receiver):
    from aerostic.core.jobs_periodic import evaluate_alert_rules
    from aerostic.periodic import PERIODIC_JOBS

    assert any(job.func.endswith("evaluate_alert_rules") and job.cron == "* * * * *" for job in PERIODIC_JOBS)
    settings.ALERT_SLACK_WEBHOOK_URL = slack_receiver.url
    thresholds(queue_depth=0)
    queues.get_queue("low").enqueue("aerostic.core.jobs_periodic.purge_old_audit_events")

    result = evaluate_alert_rules()
    assert set(result["rules"]) >= {"queues", "graph-auth", "meta-throttled", "webhook-failures", "dead-webhooks"}
    assert set(result["rules"]) >= {"send-failures", "token-expiry"}
    assert result["rules"]["queues"] == (1, 0) and result["notices"]["sent"] == 1
    assert "Queue low: 1 jobs waiting" in slack_receiver.received[0]["text"]

    queues.get_queue("low").empty()
    evaluate_alert_rules()
    assert slack_receiver.received[1]["text"].startswith("*[Aerostic] Resolved: Queue low")


def test_every_threshold_is_a_setting_from_the_environment(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from aerostic.core.config import AlertThresholds, alert_thresholds

    assert alert_thresholds() == AlertThresholds()
    monkeypatch.setenv("ALERT_QUEUE_DEPTH", "5000")
    monkeypatch.setenv("ALERT_WEBHOOK_FAILURE_PERCENT", "2")
    assert (alert_thresholds().queue_depth, alert_thresholds().webhook_failure_percent) == (5000, 2)
    monkeypatch.setenv("ALERT_QUEUE_DEPTH", "lots")
    with pytest.raises(ImproperlyConfigured, match="ALERT_QUEUE_DEPTH must be a whole number"):
        alert_thresholds()
