"""Django admin is the platform console: super-admins only, every view in the platform scope."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponseRedirect

from aerostic.core.errors import DomainError
from aerostic.core.tenant_context import platform_context

# Figures the console's index page shows ({template variable: how to count it}). Apps add theirs from
# their admin module (whatsapp: the dead webhook events), so the console names no app.
_index_figures: dict[str, Callable[[], Any]] = {}


def add_index_figure(name: str, compute: Callable[[], Any]) -> None:
    """Show `compute()` as `{{ name }}` on the admin index (templates/admin/index.html)."""
    _index_figures[name] = compute


class PlatformAdminSite(admin.AdminSite):
    site_header = "Aerostic platform console"
    site_title = "Aerostic admin"
    index_title = "Platform"

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        figures = {name: compute() for name, compute in _index_figures.items()}
        return super().index(request, {**(extra_context or {}), **figures})

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and user.is_superuser)

    def admin_view(self, view: Any, cacheable: bool = False) -> Any:
        wrapped = super().admin_view(view, cacheable)

        @functools.wraps(wrapped)
        def in_platform_scope(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            with platform_context("django admin"):
                response = wrapped(request, *args, **kwargs)
                # Admin answers are lazy TemplateResponses: render while still in the platform scope.
                if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                    response.render()
                return response

        return in_platform_scope

    def admin_or_api_token_view(self, view: Any) -> Any:
        """For django-rq's stats views, which let in any `is_staff` user or the RQ_API_TOKEN bearer:
        a super-admin passes; anyone else is seen as anonymous, so only the token (when one is
        set) opens them."""

        @functools.wraps(view)
        def gated(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if not self.has_permission(request):
                request.user = AnonymousUser()
            return view(request, *args, **kwargs)

        return gated


class TenantScopedAdmin(admin.ModelAdmin):
    """ModelAdmin for TenantScopedModel subclasses: lists every tenant (platform scope)."""

    def get_queryset(self, request: HttpRequest) -> Any:
        queryset = self.model.all_tenants.get_queryset()
        ordering = self.get_ordering(request)
        if ordering:
            queryset = queryset.order_by(*ordering)
        return queryset


class ReadOnlyAdmin(admin.ModelAdmin):
    """Pages to look at, never to change: these rows are written only by their app's services."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TenantScopedReadOnlyAdmin(TenantScopedAdmin, ReadOnlyAdmin):
    """Read-only pages over every tenant's rows."""


def _refusal_text(error: Exception) -> str:
    if isinstance(error, DomainError):
        return error.message
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


class ServiceAdmin(admin.ModelAdmin):
    """An admin whose saves, deletes and actions call services (in `save_model`, `delete_model`,
    `save_formset`, actions). A service that refuses raises; Django's own transaction around the
    view is rolled back, so nothing of the save stays, and the refusal is shown as an error
    message on the page the staff member came from."""

    def _refused(self, request: HttpRequest, error: Exception) -> HttpResponseRedirect:
        self.message_user(request, _refusal_text(error), level=messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().changeform_view(request, *args, **kwargs)
        except (DomainError, ValidationError) as error:
            return self._refused(request, error)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        # "Delete selected": each row through delete_model, so its service decides and audits it.
        for obj in queryset:
            self.delete_model(request, obj)

    def delete_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().delete_view(request, *args, **kwargs)
        except (DomainError, ValidationError) as error:
            return self._refused(request, error)

    def changelist_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        # Actions and list_editable run inside; Django gives them no transaction of their own.
        from django.db import transaction

        try:
            with transaction.atomic():
                return super().changelist_view(request, *args, **kwargs)
        except (DomainError, ValidationError) as error:
            return self._refused(request, error)


class WorkspaceRowAdmin(TenantScopedAdmin, ServiceAdmin):
    """A workspace's row edited by staff through its service (save_model/delete_model call it inside
    the row's tenant scope); never added here: a row needs its workspace, which the portal gives."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
