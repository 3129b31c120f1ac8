"""API throttles: per user, per tenant (shared by all its users and tokens) and for token endpoints.

Kept apart from aerostic.core.api because DRF imports throttle classes while building APIView.
"""

from __future__ import annotations

from typing import Any

from rest_framework import throttling
from rest_framework.request import Request


class UserRateThrottle(throttling.UserRateThrottle):
    scope = "user"


class TenantRateThrottle(throttling.SimpleRateThrottle):
    """One budget shared by every user and token of a tenant."""

    scope = "tenant"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        tenant = getattr(request, "tenant", None)
        if tenant is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": tenant.pk}


class AuthRateThrottle(throttling.AnonRateThrottle):
    """Token endpoints: per client IP, on top of django-axes' per-account lockout."""

    scope = "auth"
