"""API frame every `/api/v1/` view shares: the user-level base and the one exception handler.

`UserAPIView` is for user-level endpoints (/me, tokens); every tenant endpoint inherits
`tenants.api_base.TenantAPIView`, which resolves the tenant and checks one named permission per
method. `exception_handler` (settings REST_FRAMEWORK) turns domain refusals into 4xx answers.
"""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, permissions
from rest_framework.response import Response
from rest_framework.views import APIView, set_rollback
from rest_framework.views import exception_handler as drf_exception_handler

from aerostic.core.errors import DomainError
from aerostic.core.tenant_context import NoTenantContext


class UserAPIView(APIView):
    """Authenticated, not tied to one tenant (e.g. /me, token endpoints)."""

    permission_classes = [permissions.IsAuthenticated]


__all__ = ["UserAPIView", "exception_handler"]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, ObjectDoesNotExist | Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, NoTenantContext):
        exc = exceptions.PermissionDenied("No workspace selected.")
    elif isinstance(exc, DomainError):
        set_rollback()
        body: dict[str, Any] = {"detail": exc.message, "code": exc.code}
        problems = getattr(exc, "problems", None)
        if isinstance(problems, dict):  # field → what is wrong with it (e.g. a contact)
            body["problems"] = [{"where": where, "message": message} for where, message in problems.items()]
        elif problems:  # every rule broken at once (e.g. a template), each with where it is
            body["problems"] = [{"where": p.where, "message": p.message} for p in problems]
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:  # a RateLimited refusal: say when to come back
            body["retry_after"] = math.ceil(retry_after)
            return Response(body, status=exc.status_code, headers={"Retry-After": str(math.ceil(retry_after))})
        return Response(body, status=exc.status_code)
    return drf_exception_handler(exc, context)
