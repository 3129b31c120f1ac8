"""Tenant API base: the tenant resolved before the handler, one named permission per method.

Every tenant `/api/v1/` view inherits `TenantAPIView` (user-level endpoints such as /me inherit
`aerostic.core.api.UserAPIView`). The tenant is the one named by the `X-Tenant` header (a slug);
without it, the user's only membership, or for the portal's session the active workspace. A token
of a user with several workspaces must name one (400 listing the slugs); a slug the user does not
belong to is a 404. Throttles and the error handler are core's (aerostic.core.api).
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, cast

from rest_framework import exceptions, permissions
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.roles import role_has_perm
from aerostic.core.tenant_context import tenant_context
from tenants.middleware import ACTIVE_TENANT_SESSION_KEY
from tenants.selectors import membership_for_tenant_slug, memberships_for_user

if TYPE_CHECKING:
    from tenants.models import Membership, Tenant


class TenantRequest(Request):
    """The request a `TenantAPIView` handler receives: DRF's, with the workspace resolved before the
    handler (`TenantAPIView._enter_tenant`). A name for the type checker; at run time it is a Request."""

    membership: Membership
    tenant: Tenant


class HasTenantPermission(permissions.BasePermission):
    """The member's role holds the permission the view names for this HTTP method."""

    message = "Your role does not allow this."

    def has_permission(self, request: Request, view: Any) -> bool:
        membership = getattr(request, "membership", None)
        if membership is None:
            return False
        required = view.permission_for(request.method)
        return required is None or role_has_perm(membership.role, required)


class TenantRequired(exceptions.APIException):
    status_code = 400
    default_code = "tenant_required"
    default_detail = "Name the workspace in the X-Tenant header."


class TenantAPIView(APIView):
    permission_classes = [permissions.IsAuthenticated, HasTenantPermission]
    # {"GET": Perm.TEAM_VIEW, "POST": Perm.TEAM_MANAGE}; a method left out is refused.
    required_permissions: dict[str, str] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for forbidden in ("get_queryset", "get_object"):
            if forbidden in cls.__dict__:
                raise TypeError(f"{cls.__name__} overrides {forbidden}: use selectors inside the handler.")

    def permission_for(self, method: str) -> str | None:
        if method in ("HEAD", "OPTIONS"):
            method = "GET"
        if method not in self.required_permissions:
            raise exceptions.MethodNotAllowed(method)
        return self.required_permissions[method]

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        with ExitStack() as self._scope_stack:
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.perform_authentication(request)
        if request.user and request.user.is_authenticated:
            self._enter_tenant(request)
        super().initial(request, *args, **kwargs)

    def _enter_tenant(self, request: Request) -> None:
        slug = request.headers.get("X-Tenant", "").strip()
        if slug:
            membership = membership_for_tenant_slug(request.user, slug)
            if membership is None:
                raise exceptions.NotFound(f"No workspace '{slug}' for this user.")
        else:
            memberships = memberships_for_user(request.user)
            membership = memberships[0] if len(memberships) == 1 else None
            if isinstance(request.successful_authenticator, SessionAuthentication):
                # The portal's own calls: the workspace the browser has switched to
                preferred = request._request.session.get(ACTIVE_TENANT_SESSION_KEY)
                membership = next((m for m in memberships if m.tenant_id == preferred), membership)
            if membership is None and len(memberships) > 1:
                # Never guess for a token: a script written for one workspace must not act on another
                slugs = [m.tenant.slug for m in memberships]
                raise TenantRequired(
                    {
                        "detail": "You belong to several workspaces: name one in the X-Tenant header "
                        f"(one of: {', '.join(slugs)}).",
                        "code": TenantRequired.default_code,
                        "workspaces": slugs,
                    }
                )
        if membership is None:
            raise exceptions.PermissionDenied("You are not a member of any workspace.")
        resolved = cast("TenantRequest", request)  # the attributes are set here
        resolved.membership = membership
        resolved.tenant = membership.tenant
        # The portal's attributes on Django's request, as TenantMiddleware sets them.
        request._request.membership = membership  # type: ignore[attr-defined]
        request._request.tenant = membership.tenant  # type: ignore[attr-defined]
        self._scope_stack.enter_context(tenant_context(membership.tenant_id))
