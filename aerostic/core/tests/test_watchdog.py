"""The watchdog tells people when Redis or Postgres is down, from outside them: a real Redis server
stopped and started again, a Postgres that does not answer; notices to a local Slack receiver and a
real SMTP server; the outage recorded as an alert once Postgres answers."""

from __future__ import annotations

import pytest

from aerostic.core.alerts import raise_alert
from aerostic.core.models import Alert
from aerostic.core.tenant_context import platform_context
from aerostic.core.watchdog import Service, Watchdog, postgres_answers, redis_answers
from devstack.services import EmbeddedRedis, free_port

pytestmark = pytest.mark.django_db(transaction=True)


def _alerts(key):
    with platform_context("test"):
        return list(Alert.all_tenants.filter(key=key).order_by("id"))


@pytest.fixture
def platform_channels(settings, slack_receiver, smtp_receiver):
    settings.ALERT_SLACK_WEBHOOK_URL = slack_receiver.url
    settings.ALERT_EMAILS = ["oncall@platform.example"]
    return slack_receiver, smtp_receiver


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of the test's own, so stopping it does not stop the suite's."""
    server = EmbeddedRedis(tmp_path / "redis", persistent=False, port=free_port())
    server.start()
    yield server
    server.stop()


def test_redis_really_stopped_then_started_again_is_told_once_each_way(settings, own_redis, platform_channels):
    slack, smtp = platform_channels
    settings.ALERT_THRESHOLDS = settings.ALERT_THRESHOLDS.__class__(watchdog_failures=2)
    url = own_redis.url()
    watchdog = Watchdog(
        [Service("redis", "Redis", lambda: redis_answers(url)), Service("postgres", "Postgres", postgres_answers)]
    )

    assert watchdog.tick()["down"] == []
    own_redis.stop()
    assert watchdog.tick()["down"] == []  # one failed check is not an outage
    assert slack.received == []
    assert watchdog.tick()["down"] == ["redis"]
    [notice] = slack.received
    assert notice["text"].startswith("*[Aerostic] Critical: Redis unreachable*")
    assert smtp.messages[0]["Subject"] == "[Aerostic] Critical: Redis unreachable"
    [alert] = _alerts("watchdog:redis")
    assert alert.resolved_at is None and alert.level == "critical" and alert.notified_at is not None

    watchdog.tick()  # still down: nobody is told twice
    assert len(slack.received) == 1 and len(smtp.messages) == 1

    own_redis.start()
    assert watchdog.tick()["down"] == []
    assert slack.received[1]["text"].startswith("*[Aerostic] Resolved: Redis reachable again*")
    assert smtp.messages[1]["Subject"] == "[Aerostic] Resolved: Redis reachable again"
    [alert] = _alerts("watchdog:redis")
    assert alert.resolved_at is not None and alert.recovery_notified_at is not None

    watchdog.tick()  # the outage is closed: nothing more to say
    assert len(slack.received) == 2


def test_postgres_down_is_told_at_once_and_recorded_when_it_answers_again(settings, platform_channels):
    slack, _ = platform_channels
    settings.ALERT_THRESHOLDS = settings.ALERT_THRESHOLDS.__class__(watchdog_failures=1)
    postgres_is_up = [False]

    def check():
        if not postgres_is_up[0]:
            import psycopg

            psycopg.connect(host="127.0.0.1", port=free_port(), connect_timeout=2)  # nothing listens there
        postgres_answers()

    watchdog = Watchdog([Service("postgres", "Postgres", check)])
    assert watchdog.tick()["down"] == ["postgres"]
    assert slack.received[0]["text"].startswith("*[Aerostic] Critical: Postgres unreachable*")
    assert _alerts("watchdog:postgres") == []  # nowhere to write it yet

    postgres_is_up[0] = True
    watchdog.tick()
    assert slack.received[1]["text"].startswith("*[Aerostic] Resolved: Postgres reachable again*")
    [alert] = _alerts("watchdog:postgres")  # the outage's history, told already
    assert alert.resolved_at is not None and alert.notified_at and alert.recovery_notified_at
    assert "OperationalError" in alert.detail


def test_a_blip_shorter_than_the_threshold_says_nothing(settings, own_redis, platform_channels):
    slack, _ = platform_channels
    settings.ALERT_THRESHOLDS = settings.ALERT_THRESHOLDS.__class__(watchdog_failures=3)
    url = own_redis.url()
    watchdog = Watchdog([Service("redis", "Redis", lambda: redis_answers(url))])
    own_redis.stop()
    watchdog.tick()
    watchdog.tick()
    own_redis.start()
    watchdog.tick()
    assert slack.received == [] and _alerts("watchdog:redis") == []


def test_the_watchdog_delivers_other_alerts_notices_while_redis_is_down(settings, own_redis, platform_channels):
    slack, _ = platform_channels
    url = own_redis.url()
    own_redis.stop()
    raise_alert(tenant=None, key="orphan-waba:9", title="Orphan WABA 9")
    Watchdog([Service("redis", "Redis", lambda: redis_answers(url))]).tick()
    assert any("Orphan WABA 9" in notice["text"] for notice in slack.received)


def test_the_command_runs_one_round(settings, platform_channels):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("alert_watchdog", "--once", stdout=out)
    assert "'down': []" in out.getvalue()
