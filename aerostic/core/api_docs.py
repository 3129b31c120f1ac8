"""The API's own documentation: the OpenAPI schema and Swagger UI, served from the vendored sidecar.

No CDN: the page must work offline and under a strict CSP, so it loads nothing but our static
files (Redoc was dropped for this: its stock page asks Google for fonts and its footer loads a logo
from Redocly's CDN). In production only signed-in users read it: the schema names every route and
field, which helps an attacker more than a user.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission


class SignedInInProduction(BasePermission):
    message = "Sign in to read the API documentation."

    def has_permission(self, request: Any, view: Any) -> bool:
        return not settings.IS_DEPLOYED or bool(request.user and request.user.is_authenticated)


class ApiSchemaView(SpectacularAPIView):
    permission_classes = [SignedInInProduction]


class ApiDocsView(SpectacularSwaggerView):
    permission_classes = [SignedInInProduction]

    def handle_exception(self, exc: Exception) -> Any:
        # A person opening the page in a browser is sent to sign in, then back here.
        if isinstance(exc, NotAuthenticated):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)
