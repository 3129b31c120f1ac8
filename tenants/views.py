"""Portal pages of the workspace: dashboard, team, audit log, settings, tenant switcher."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.roles import Perm
from aerostic.core import audit
from aerostic.core.alerts import open_alerts
from aerostic.core.errors import DomainError
from aerostic.core.selectors import audit_event_list
from tenants import selectors, services
from tenants.forms import InviteForm, RoleForm, TenantSettingsForm
from tenants.middleware import ACTIVE_TENANT_SESSION_KEY
from tenants.models import Invitation
from tenants.portal_base import PortalView, redirect_back, require_permission
from tenants.sending_state import sending_state


def _error_text(error: Exception) -> str:
    if isinstance(error, DomainError):
        return error.message
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


class DashboardView(PortalView):
    template_name = "portal/dashboard.html"
    required_permission = Perm.DASHBOARD_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["sending"] = sending_state(self.request.tenant.pk)
        context["member_count"] = selectors.member_list().count()
        context["pending_invitations"] = selectors.invitation_pending_list().count()
        context["recent_events"] = audit_event_list()[:8] if self.can(Perm.AUDIT_VIEW) else []
        context["alerts"] = open_alerts()[:10]
        return context


class ComingSoonView(PortalView):
    template_name = "portal/coming_soon.html"
    permission_exempt = True
    section_title = ""
    section_intro = ""
    coming_items: list[str] = []

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            section_title=self.section_title, section_intro=self.section_intro, coming_items=self.coming_items
        )
        return context


class TeamView(PortalView):
    template_name = "tenants/team.html"
    required_permission = Perm.TEAM_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["members"] = selectors.member_list()
        context["invitations"] = selectors.invitation_pending_list()
        context["can_manage"] = self.can(Perm.TEAM_MANAGE)
        context["invite_form"] = kwargs.get("invite_form") or InviteForm()
        context["roles"] = RoleForm.base_fields["role"].choices
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can(Perm.TEAM_MANAGE):
            raise PermissionDenied("Your role does not allow managing the team.")
        form = InviteForm(request.POST)
        if form.is_valid():
            try:
                services.invitation_create(
                    tenant=request.tenant,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    actor=request.user,
                    request=request,
                )
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for field, errors in error.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, error)
            else:
                messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
                return redirect("tenants:team")
        return self.render_to_response(self.get_context_data(invite_form=form), status=400)


@require_POST
@require_permission(Perm.TEAM_MANAGE)
def member_role_change(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = PortalView.scoped_get(selectors.member_get, membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the listed roles.")
        return redirect("tenants:team")
    try:
        services.membership_role_change(
            membership=membership, role=form.cleaned_data["role"], actor=request.user, request=request
        )
    except (DomainError, ValidationError) as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, f"{membership.user.email} is now {form.cleaned_data['role']}.")
    return redirect("tenants:team")


@require_POST
@require_permission(Perm.TEAM_MANAGE)
def member_remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = PortalView.scoped_get(selectors.member_get, membership_id)
    try:
        services.membership_remove(membership=membership, actor=request.user, request=request)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{membership.user.email} was removed from the workspace.")
    return redirect("tenants:team")


@require_POST
@require_permission(Perm.TEAM_MANAGE)
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = PortalView.scoped_get(Invitation.objects.get, pk=invitation_id)
    try:
        services.invitation_revoke(invitation=invitation, actor=request.user, request=request)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"The invitation to {invitation.email} was revoked.")
    return redirect("tenants:team")


class AuditLogView(PortalView):
    template_name = "tenants/audit.html"
    required_permission = Perm.AUDIT_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        action = self.request.GET.get("action", "").strip()
        events = audit_event_list(action_prefix=action or None)
        context["page_obj"] = Paginator(events, 50).get_page(self.request.GET.get("page"))
        context["action"] = action
        return context


class SettingsView(PortalView):
    template_name = "tenants/settings.html"
    required_permission = Perm.SETTINGS_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        tenant = self.request.tenant
        context["form"] = kwargs.get("form") or TenantSettingsForm(
            initial={"name": tenant.name, "timezone": tenant.timezone, "default_country": tenant.default_country}
        )
        context["can_manage"] = self.can(Perm.SETTINGS_MANAGE)
        context["sending"] = sending_state(tenant.pk)
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can(Perm.SETTINGS_MANAGE):
            raise PermissionDenied("Your role does not allow changing settings.")
        form = TenantSettingsForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        services.tenant_settings_update(tenant=request.tenant, actor=request.user, request=request, **form.cleaned_data)
        messages.success(request, "Settings saved.")
        return redirect("portal:settings")


@require_POST
def switch_tenant(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    try:
        wanted = int(request.POST.get("tenant", ""))
    except ValueError:
        raise Http404 from None
    membership = next((m for m in selectors.memberships_for_user(request.user) if m.tenant_id == wanted), None)
    if membership is None:
        raise Http404
    request.session[ACTIVE_TENANT_SESSION_KEY] = membership.tenant_id
    audit.record("tenant.switched", actor=request.user, tenant=membership.tenant_id, request=request)
    messages.info(request, f"You are now working in {membership.tenant.name}.")
    return redirect_back(request, "portal:dashboard")
