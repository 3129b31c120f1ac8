"""Alert rules, evaluated by the scheduler every minute (`evaluate_alert_rules`, aerostic/periodic.py).

A rule looks at the platform as it is now and returns the problems it sees (`Firing`s, each with an
alert key under `rule:<name>:`); `alerts_sync` opens the new ones and resolves those no longer seen,
so an alert clears by itself when its problem does, and its people get the recovery notice. A rule
that fails is logged and left alone: its alerts stay as they were (a failed look is not a recovery).
Thresholds are settings (ALERT_THRESHOLDS, aerostic.core.config.AlertThresholds).

The rules here read only the platform (queues, Redis counters); the apps register theirs from their
AppConfig.ready() (whatsapp.alert_rules). What no rule can see from a worker, because Redis or
Postgres is down, the watchdog sees (aerostic.core.watchdog). Problems Meta reports as events
(quality, tier, account restrictions, a revoked token, an orphan WABA) are raised and resolved by
the code handling those events.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from aerostic.core import metrics
from aerostic.core.alerts import Firing, alerts_sync
from aerostic.core.config import AlertThresholds

logger = logging.getLogger(__name__)

Rule = Callable[[AlertThresholds, datetime], list[Firing]]
_RULES: dict[str, Rule] = {}


def register_rule(name: str, rule: Rule) -> Rule:
    """`rule(thresholds, now)` returns what fires now, keys under `rule:<name>:`."""
    _RULES[name] = rule
    return rule


def rule_names() -> list[str]:
    return sorted(_RULES)


def evaluate_rules(names: list[str] | None = None) -> dict[str, tuple[int, int] | str]:
    """Runs every rule (or those named) and syncs its alerts: {rule: (raised, resolved) or "error"}."""
    thresholds, now = settings.ALERT_THRESHOLDS, timezone.now()
    results: dict[str, tuple[int, int] | str] = {}
    for name in names or rule_names():
        try:
            firing = _RULES[name](thresholds, now)
            results[name] = alerts_sync(prefix=f"rule:{name}:", firing=firing)
        except Exception:  # one rule's failure must not keep the others from running
            logger.exception("alert rule failed", extra={"rule": name})
            results[name] = "error"
    return results


# --- the platform's own rules


def queues(thresholds: AlertThresholds, now: datetime) -> list[Firing]:
    firing = []
    for sample in metrics.queue_samples():
        if sample.depth > thresholds.queue_depth:
            firing.append(
                Firing(
                    None,
                    f"rule:queues:{sample.queue}:depth",
                    f"Queue {sample.queue}: {sample.depth:,} jobs waiting",
                    f"More than {thresholds.queue_depth:,} jobs wait in the {sample.queue} queue: its workers"
                    " do not keep up or have stopped. Check the workers (Procfile) and their logs.",
                    "critical",
                )
            )
        if sample.oldest_seconds > thresholds.queue_oldest_seconds:
            firing.append(
                Firing(
                    None,
                    f"rule:queues:{sample.queue}:age",
                    f"Queue {sample.queue}: the oldest job has waited {sample.oldest_seconds / 60:.0f} minutes",
                    f"A job has waited longer than {thresholds.queue_oldest_seconds} seconds: are the"
                    f" {sample.queue} workers running?",
                    "critical",
                )
            )
    return firing


_SNAPSHOTS_KEY = "aerostic:alerts:snapshots:{name}"  # a list of {at, totals}, newest first
_SNAPSHOTS_KEPT = 120  # at one look a minute: windows up to two hours


def counter_window(name: str, *, seconds: int) -> dict[tuple[str, ...], float]:
    """How much a platform-wide counter (aerostic.core.metrics) grew, by label values, since the
    newest of its earlier looks at least `seconds` ago (or the oldest, early on; nothing at the first
    look). Each call records a look, in Redis, so any worker may evaluate the rules."""
    totals = metrics.shared_counter_totals(name)
    now = time.time()
    connection = metrics.shared_redis()
    key = _SNAPSHOTS_KEY.format(name=name)
    base = None
    for raw in connection.lrange(key, 0, _SNAPSHOTS_KEPT):
        base = json.loads(raw)
        if now - base["at"] >= seconds:
            break
    snapshot = {"at": now, "totals": [[list(labels), value] for labels, value in totals.items()]}
    connection.pipeline(transaction=False).lpush(key, json.dumps(snapshot)).ltrim(key, 0, _SNAPSHOTS_KEPT).execute()
    if base is None:
        return {}
    before = {tuple(labels): value for labels, value in base["totals"]}
    return {labels: value - before.get(labels, 0) for labels, value in totals.items() if value > before.get(labels, 0)}


def _counted(name: str, counter: str, title: str, detail: str, level: str) -> Rule:
    def rule(thresholds: AlertThresholds, now: datetime) -> list[Firing]:
        if not counter_window(counter, seconds=thresholds.quiet_minutes * 60):
            return []
        return [Firing(None, f"rule:{name}:platform", title, detail.format(minutes=thresholds.quiet_minutes), level)]

    return rule


register_rule("queues", queues)
register_rule(
    "graph-auth",
    _counted(
        "graph-auth",
        "aerostic_graph_auth_errors",
        "Meta refused calls with 401/403",
        "The Graph API answered 401 or 403: a token was revoked or expired, or lacks a permission. The"
        " workspaces concerned have their own alert; this clears {minutes} minutes after the last refusal.",
        "critical",
    ),
)
register_rule(
    "meta-throttled",
    _counted(
        "meta-throttled",
        "aerostic_meta_throttled",
        "Meta's rate limits were hit",
        "Meta refused sends for pacing (rate limits); they are retried later. Sustained, it means a number"
        " sends above its throughput. This clears {minutes} minutes after the last refusal.",
        "warning",
    ),
)
