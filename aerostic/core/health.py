"""Machine endpoints: the load balancer's probes, /healthz (process up) and /readyz (Postgres and its
role, Redis, queue depths; in its details, transactions open for too long), and Prometheus's
/metrics."""

from __future__ import annotations

import functools
import hmac
import ipaddress
import time

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from aerostic.core import queues
from aerostic.core.checks import DatabaseRoleRefused, database_role_status
from aerostic.core.clientip import client_ip
from aerostic.core.db_session import long_transactions
from aerostic.core.metrics import CONTENT_TYPE, exposition


@transaction.non_atomic_requests
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_postgres() -> dict:
    started = time.monotonic()
    try:
        role = database_role_status(connection)
    except DatabaseRoleRefused as refused:
        return {"ok": False, "error": "role_bypasses_rls", "role": refused.status.name, "obeys_rls": False}
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {
        "ok": True,
        "ms": round((time.monotonic() - started) * 1000, 1),
        "role": role.name,
        # Development only warns: staging and production refused this role before getting here.
        "obeys_rls": role.obeys_rls,
        # Details for the operator (a stuck transaction is not this process's unreadiness).
        "long_transactions": long_transactions(older_than_seconds=settings.READYZ_LONG_TRANSACTION_SECONDS),
    }


def _check_redis_and_queues() -> tuple[dict, dict]:
    started = time.monotonic()
    redis = queues.redis_connection()
    redis.ping()
    redis_result = {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}
    depths = {name: queues.get_queue(name).count for name in settings.QUEUE_NAMES}
    return redis_result, depths


@transaction.non_atomic_requests
@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict = {}
    try:
        checks["postgres"] = _check_postgres()
    except Exception as exc:  # a probe reports, it never raises
        checks["postgres"] = {"ok": False, "error": type(exc).__name__}
    try:
        checks["redis"], checks["queues"] = _check_redis_and_queues()
    except Exception as exc:
        checks["redis"] = {"ok": False, "error": type(exc).__name__}
    ready = checks["postgres"]["ok"] and checks["redis"]["ok"]
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


def _scraper_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].encode(), token.encode()):
        return True
    address = client_ip(request)
    if not address or not settings.METRICS_ALLOWED_NETWORKS:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.METRICS_ALLOWED_NETWORKS)))


@functools.lru_cache(maxsize=4)
def _networks(values: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Parsed once (settings checked them at start-up), not at every scrape."""
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


@transaction.non_atomic_requests
@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus's scrape (aerostic.core.metrics): a bearer token or an allowed network."""
    if not _scraper_allowed(request):
        if not settings.METRICS_TOKEN and not settings.METRICS_ALLOWED_NETWORKS:
            return JsonResponse(
                {"error": "Metrics are off: set METRICS_TOKEN or METRICS_ALLOWED_NETWORKS."}, status=403
            )
        return JsonResponse({"error": "A valid bearer token or an allowed network is required."}, status=401)
    return HttpResponse(exposition(), content_type=CONTENT_TYPE)
