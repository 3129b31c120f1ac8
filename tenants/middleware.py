"""Sets the tenant for portal requests from the signed-in user's active membership."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from aerostic.core.logging import user_id_var
from aerostic.core.tenant_context import tenant_context
from tenants.selectors import active_membership, memberships_for_user

ACTIVE_TENANT_SESSION_KEY = "active_tenant_id"


class TenantMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.tenant = None  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith("/admin/"):
            # Django admin runs in the platform scope (aerostic.core.admin_site), never as a tenant.
            return self.get_response(request)

        user_id_var.set(user.pk)
        memberships = memberships_for_user(user)
        request.user_memberships = memberships  # type: ignore[attr-defined]  # the workspace switcher's
        membership = active_membership(user, request.session.get(ACTIVE_TENANT_SESSION_KEY), memberships=memberships)
        if membership is None:
            return self.get_response(request)
        request.tenant = membership.tenant  # type: ignore[attr-defined]
        request.membership = membership  # type: ignore[attr-defined]
        if request.session.get(ACTIVE_TENANT_SESSION_KEY) != membership.tenant_id:
            request.session[ACTIVE_TENANT_SESSION_KEY] = membership.tenant_id
        with tenant_context(membership.tenant_id):
            return self.get_response(request)
