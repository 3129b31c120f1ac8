"""What /metrics samples of WhatsApp at scrape time (aerostic.core.metrics.register_sampler, from
WhatsappConfig.ready): the webhook backlog, its processing lag and dead events; token health and
the soonest expiry; circuit breakers open. Platform-wide: every web process serves the same values."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from aerostic.core.tenant_context import platform_context
from whatsapp.graph.breaker import CircuitBreaker
from whatsapp.models import AccessToken, WebhookEvent

_BACKLOG = (WebhookEvent.Status.PENDING, WebhookEvent.Status.PROCESSING, WebhookEvent.Status.DEAD)


def webhook_backlog() -> Iterator[Metric]:
    events = GaugeMetricFamily(
        "aerostic_webhook_events", "Stored webhook events not yet processed, and dead ones", labels=["status"]
    )
    lag = GaugeMetricFamily(
        "aerostic_webhook_processing_lag_seconds", "Age of the oldest stored webhook event not yet processed"
    )
    with platform_context("metrics"):
        rows = {
            row["status"]: row
            for row in WebhookEvent.all_tenants.filter(status__in=_BACKLOG)
            .values("status")
            .annotate(n=Count("id"), oldest=Min("received_at"))
        }
    now = timezone.now()
    oldest = []
    for status in _BACKLOG:
        row = rows.get(status)
        events.add_metric([status], row["n"] if row else 0)
        if row and status != WebhookEvent.Status.DEAD:
            oldest.append(row["oldest"])
    lag.add_metric([], (now - min(oldest)).total_seconds() if oldest else 0.0)
    yield from (events, lag)


def tokens() -> Iterator[Metric]:
    health = GaugeMetricFamily(
        "aerostic_whatsapp_tokens", "Current WhatsApp access tokens by health", labels=["status"]
    )
    soonest = GaugeMetricFamily(
        "aerostic_whatsapp_token_soonest_expiry_seconds",
        "Seconds until the first current token expires (negative: already expired; absent: none expires)",
    )
    with platform_context("metrics"):
        current = AccessToken.all_tenants.filter(is_current=True).exclude(status=AccessToken.Status.ERASED)
        for row in current.values("status").annotate(n=Count("id")):
            health.add_metric([row["status"]], row["n"])
        first = current.exclude(expires_at=None).aggregate(first=Min("expires_at"))["first"]
    yield health
    if first is not None:
        soonest.add_metric([], (first - timezone.now()).total_seconds())
        yield soonest


def breakers() -> Iterator[Metric]:
    states = GaugeMetricFamily(
        "aerostic_graph_circuit_breakers", "Graph API circuit breakers not closed, by state", labels=["state"]
    )
    counts = {"open": 0, "half_open": 0}
    for breaker in CircuitBreaker.not_closed():
        counts[breaker.state] += 1
    for state, number in counts.items():
        states.add_metric([state], number)
    yield states
