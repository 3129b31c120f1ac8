"""Base classes for tenant portal views: sign-in, tenant and one named permission before the handler runs.

The tenant itself is set by tenants.middleware; these bases refuse a request without one."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import TemplateView

from accounts.roles import role_has_perm


def workspace_zone(request: HttpRequest) -> ZoneInfo:
    """The workspace's time zone, in which its pages show times (UTC if it names none we know)."""
    try:
        return ZoneInfo(getattr(request.tenant, "timezone", "") or "UTC")  # type: ignore[attr-defined]
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def redirect_back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    """To the form's `next` when it is on this site (the page the button was on), else to the URL
    named `default`."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse(default)
    return HttpResponseRedirect(target)


def _gate(request: HttpRequest, permission: str | None) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    membership = getattr(request, "membership", None)
    if membership is None:
        return render(request, "portal/no_workspace.html", status=403)
    if permission is not None and not role_has_perm(membership.role, permission):
        raise PermissionDenied("Your role does not allow this.")
    return None


def require_permission(permission: str | None) -> Callable:
    """Function-view decorator: signed in, inside a tenant, and the role holds `permission`."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            refusal = _gate(request, permission)
            if refusal is not None:
                return refusal
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


class PortalView(TemplateView):
    """Every tenant page inherits this. Objects are fetched through selectors with `scoped_get`,
    so another tenant's id gives the same 404 as a missing one."""

    required_permission: str | None = None
    permission_exempt = False  # set True only for pages any member may see

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for forbidden in ("get_queryset", "get_object"):
            if forbidden in cls.__dict__:
                raise TypeError(f"{cls.__name__} overrides {forbidden}: fetch rows with selectors via scoped_get().")
        if cls.required_permission is None and not cls.permission_exempt and "template_name" in cls.__dict__:
            raise TypeError(f"{cls.__name__} must name a required_permission (accounts.roles.Perm).")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        refusal = _gate(request, self.required_permission)
        if refusal is not None:
            return refusal
        return super().dispatch(request, *args, **kwargs)

    def can(self, permission: str) -> bool:
        membership = getattr(self.request, "membership", None)
        return membership is not None and role_has_perm(membership.role, permission)

    @staticmethod
    def scoped_get(selector: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return selector(*args, **kwargs)
        except ObjectDoesNotExist:
            raise Http404("Not found.") from None
