"""Load-balancer probes: /healthz (process up) and /readyz (Postgres and its role, Redis, queue depths)."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from aerostic.core import queues
from aerostic.core.checks import DatabaseRoleRefused, database_role_status


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
        # Development only warns: production refused this role before getting here.
        "obeys_rls": role.obeys_rls,
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
