"""API throttles: per user, per tenant (shared by all its users and tokens) and for token endpoints.

Kept apart from aerostic.core.api because DRF imports throttle classes while building APIView.
"""

from __future__ import annotations

from typing import Any

from rest_framework import throttling
from rest_framework.request import Request

from aerostic.core.clientip import client_ip


class ClientIPIdent:
    """Keys anonymous budgets on the project's client-IP rule. DRF's own get_ident takes any
    X-Forwarded-For when NUM_PROXIES is unset, and an unvalidated entry (or the leftmost, when the
    header is shorter than the proxy count) otherwise: either way a spoofed header is a fresh bucket."""

    def get_ident(self, request: Request) -> str:
        return client_ip(request._request) or ""


class UserRateThrottle(ClientIPIdent, throttling.UserRateThrottle):
    scope = "user"


class TenantRateThrottle(throttling.SimpleRateThrottle):
    """One budget shared by every user and token of a tenant."""

    scope = "tenant"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        tenant = getattr(request, "tenant", None)
        if tenant is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": tenant.pk}


class AuthRateThrottle(ClientIPIdent, throttling.AnonRateThrottle):
    """Token endpoints: per client IP, on top of django-axes' per-account lockout."""

    scope = "auth"
