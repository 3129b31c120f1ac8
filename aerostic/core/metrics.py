"""Prometheus metrics, served at /metrics (aerostic.core.health.metrics).

Three kinds, by where the number lives:

- **per process** (`prometheus_client` metrics below): HTTP latency per route group and webhook
  intake by answer. Several gunicorn workers on a host share them through `prometheus_client`'s
  multiprocess mode when PROMETHEUS_MULTIPROC_DIR is set (`make run` and the Procfile set it);
  each web host is its own scrape target.
- **platform-wide counters** (`count`): what workers do (sends by outcome and Meta error code,
  Graph 401/403, Meta's throttling). Kept in Redis hashes so every worker on every host adds to
  the same number, and read back at scrape time. Every web host serves the same values: alert and
  graph them with `max()` (deploy/prometheus-alerts.yml does).
- **sampled at scrape time** (`register_sampler`): queue depths and oldest job age (here), and what
  the apps register from their AppConfig.ready(): webhook backlog and dead events, token expiries,
  circuit breakers, campaign progress. Also platform-wide: `max()`.

A failing sampler or an unreachable Redis costs its own series (and `aerostic_metrics_sampler_errors`),
never the scrape or the code that counts.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST

# --- per process

HTTP_REQUEST_SECONDS = Histogram(
    "aerostic_http_request_duration_seconds",
    "Time to answer an HTTP request, by route group and status class",
    ["group", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
WEBHOOK_DELIVERIES = Counter(
    "aerostic_webhook_deliveries",
    "Meta's webhook POSTs by our answer: 200 stored; 401 bad signature, 413 too large, 429 an address"
    " over its failure limit, 503 not stored (Meta retries), 400/403/408 refused",
    ["status"],
)

# First path segment → route group (a bounded label: never the path itself).
_ROUTE_GROUPS = {
    "api": "api",
    "inbox": "inbox",
    "admin": "admin",
    "webhooks": "webhooks",
    "static": "static",
    "healthz": "probes",
    "readyz": "probes",
    "metrics": "probes",
    "accounts": "accounts",
}


def route_group(path: str) -> str:
    return _ROUTE_GROUPS.get(path.lstrip("/").split("/", 1)[0], "portal")


def observe_request(path: str, status: int, seconds: float) -> None:
    HTTP_REQUEST_SECONDS.labels(route_group(path), f"{status // 100}xx").observe(seconds)


# --- platform-wide counters, in Redis

_COUNTER_KEY = "aerostic:metrics:counter:{name}"
# name → (help, label names): only these are counted and exported.
SHARED_COUNTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "aerostic_sends": (
        "Sends that ended a Graph call, by outcome (sent, failed, retry, unknown, skipped) and Meta error code",
        ("outcome", "error_code"),
    ),
    "aerostic_graph_auth_errors": (
        "Graph API answers 401 or 403 (a token revoked, expired or missing a permission)",
        ("status",),
    ),
    "aerostic_meta_throttled": ("Sends Meta refused for pacing (rate limits hit)", ("code",)),
    "aerostic_ai_decisions": (
        "Customer messages the AI auto-reply decided about, by outcome (answered, handed_over, silent) and "
        "the rule that stopped it (empty when answered)",
        ("outcome", "rule"),
    ),
}


def shared_redis() -> Any:
    """The Redis holding the platform-wide counters (the queues' Redis)."""
    from aerostic.core import queues

    return queues.redis_connection()


def count(name: str, increments: dict[tuple[str, ...], int]) -> None:
    """Adds to a platform-wide counter: `increments` maps label values (in SHARED_COUNTERS' order)
    to amounts. Never raises: metrics must not stop a send."""
    count_all({name: increments})


def count_all(counters: dict[str, dict[tuple[str, ...], int]]) -> None:
    """`count` for several counters at once: one Redis round trip for them all."""
    unknown = sorted(set(counters) - set(SHARED_COUNTERS))
    if unknown:
        raise ValueError(f"{', '.join(unknown)} is not a declared counter")
    wanted = [
        (name, labels, amount)
        for name, increments in counters.items()
        for labels, amount in increments.items()
        if amount
    ]
    if not wanted:
        return
    try:
        pipe = shared_redis().pipeline(transaction=False)
        for name, labels, amount in wanted:
            pipe.hincrby(_COUNTER_KEY.format(name=name), json.dumps([str(value) for value in labels]), amount)
        pipe.execute()
    except (RedisError, OSError):
        logger.warning("metric not counted: Redis unreachable", extra={"metrics": sorted(counters)})


def shared_counter_totals(name: str) -> dict[tuple[str, ...], float]:
    """A platform-wide counter's values by label values (the alert rules read them too)."""
    if name not in SHARED_COUNTERS:
        raise ValueError(f"{name} is not a declared counter")
    raw = shared_redis().hgetall(_COUNTER_KEY.format(name=name))
    return {tuple(json.loads(field)): float(value) for field, value in raw.items()}


def _shared_counters() -> Iterator[Metric]:
    for name, (help_text, label_names) in SHARED_COUNTERS.items():
        family = CounterMetricFamily(name, help_text, labels=list(label_names))
        for labels, value in shared_counter_totals(name).items():
            family.add_metric(list(labels), value)
        yield family


# --- sampled at scrape time

Sampler = Callable[[], Iterable[Metric]]
_SAMPLERS: dict[str, Sampler] = {}


def register_sampler(name: str, sampler: Sampler) -> Sampler:
    """`sampler()` yields metric families read at scrape time (a few cheap queries: Prometheus
    scrapes every 15–60 s). Registered once per process, from an AppConfig.ready()."""
    _SAMPLERS[name] = sampler
    return sampler


@dataclass(frozen=True)
class QueueSample:
    queue: str
    depth: int
    oldest_seconds: float
    failed: int


def queue_samples() -> list[QueueSample]:
    """Every queue's depth, oldest waiting job's age and failed jobs (the /metrics sampler and the
    alert rules read the same)."""
    from django.conf import settings
    from rq.job import Job

    from aerostic.core import queues

    now = time.time()
    samples = []
    for name in settings.QUEUE_NAMES:
        queue = queues.get_queue(name)
        head = queue.get_job_ids(0, 1)  # the first job (a length of 0 is none at all)
        age = 0.0
        if head:
            job = Job.fetch(head[0], connection=queue.connection)
            if job.enqueued_at is not None:
                age = max(0.0, now - job.enqueued_at.timestamp())
        samples.append(QueueSample(name, queue.count, age, queue.failed_job_registry.count))
    return samples


def _queues() -> Iterator[Metric]:
    depth = GaugeMetricFamily("aerostic_queue_depth", "Jobs waiting in an RQ queue", labels=["queue"])
    oldest = GaugeMetricFamily(
        "aerostic_queue_oldest_job_age_seconds", "Age of the oldest job waiting in an RQ queue", labels=["queue"]
    )
    failed = GaugeMetricFamily("aerostic_queue_failed_jobs", "Jobs in an RQ queue's failed registry", labels=["queue"])
    for sample in queue_samples():
        depth.add_metric([sample.queue], sample.depth)
        oldest.add_metric([sample.queue], sample.oldest_seconds)
        failed.add_metric([sample.queue], sample.failed)
    yield from (depth, oldest, failed)


register_sampler("counters", _shared_counters)
register_sampler("queues", _queues)


class _PlatformCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        errors = GaugeMetricFamily(
            "aerostic_metrics_sampler_errors", "1 when a part of this scrape could not be read", labels=["sampler"]
        )
        for name, sampler in list(_SAMPLERS.items()):
            try:
                families = list(sampler())
            except Exception:  # a scrape reports what it can; the log says why a part is missing
                logger.exception("metrics sampler failed", extra={"sampler": name})
                errors.add_metric([name], 1)
                continue
            errors.add_metric([name], 0)
            yield from families
        yield errors


def exposition() -> bytes:
    """The text Prometheus reads: this process's (or this host's, in multiprocess mode) metrics
    and the platform-wide ones."""
    local: CollectorRegistry = REGISTRY  # this process's metrics above, and the runtime's
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        local = CollectorRegistry()
        multiprocess.MultiProcessCollector(local)
    platform = CollectorRegistry()
    platform.register(_PlatformCollector())
    return generate_latest(local) + generate_latest(platform)
