"""Request id, log context and latency (aerostic.core.metrics) for every request; django-auditlog's
actor and client address."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from auditlog import middleware as auditlog_middleware
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from aerostic.core.clientip import client_ip
from aerostic.core.logging import request_id_var, user_id_var
from aerostic.core.metrics import observe_request

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        request_token = request_id_var.set(request_id)
        user_token = user_id_var.set(None)
        try:
            response = self.get_response(request)
        finally:
            user_id_var.reset(user_token)
            request_id_var.reset(request_token)
        response["X-Request-ID"] = request_id
        observe_request(request.path, response.status_code, time.perf_counter() - started)
        return response


class AuditlogMiddleware(auditlog_middleware.AuditlogMiddleware):
    """django-auditlog's middleware with the project's client address: its own takes the leftmost
    X-Forwarded-For entry, which any client can write."""

    @staticmethod
    def _get_remote_addr(request: HttpRequest) -> str | None:
        # django-auditlog's conf module sets this default on settings; ours do not declare it.
        if getattr(settings, "AUDITLOG_DISABLE_REMOTE_ADDR", False):
            return None
        return client_ip(request)

    @staticmethod
    def _get_remote_port(request: HttpRequest) -> int | None:
        # Auditlog reads X-Forwarded-Port, which a client can write and most proxies neither set
        # nor strip: no value of it can be trusted.
        return None
