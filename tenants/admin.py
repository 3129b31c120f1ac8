"""Platform console: tenants, memberships, invitations.

The tenant kill-switch and "Erase workspace data" on the tenant page are compliance's
(compliance.tenant_admin), added through add_tenant_action / on_tenant_saved.

Every edit goes through the tenants services (the last-admin guard, the audit): a refusal undoes
the whole save and shows as an error message (aerostic.core.admin_site.ServiceAdmin).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from accounts.roles import Role
from aerostic.core import audit
from aerostic.core.admin_site import ServiceAdmin, TenantScopedAdmin
from aerostic.core.tenant_context import tenant_context
from tenants import services as tenant_services
from tenants.flags import WorkspaceFlag
from tenants.models import Invitation, Membership, Tenant

# What apps above tenants add to the workspace's console page, registered from their AppConfig.ready()
# (compliance: the tenant kill-switch and "Erase workspace data"), so this module names none of them.
_save_hooks: list[Callable[..., None]] = []


def add_tenant_action(action: Callable[..., Any]) -> None:
    """A Django admin action (modeladmin, request, queryset) on the Tenant list, after those added before."""
    if action not in TenantAdmin.actions:
        TenantAdmin.actions = [*TenantAdmin.actions, action]


def on_tenant_saved(react: Callable[..., None]) -> None:
    """Called as react(request=, tenant=, form=) after the console saved a workspace's own fields."""
    if react not in _save_hooks:
        _save_hooks.append(react)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    raw_id_fields = ("user",)

    def get_queryset(self, request):
        return Membership.all_tenants.select_related("user")


@admin.register(Tenant)
class TenantAdmin(ServiceAdmin):
    list_display = ("name", "slug", "status", "sending_enabled", "sending_disabled_reason", "created_at")
    list_filter = ("status", "sending_enabled")
    search_fields = ("name", "slug")
    readonly_fields = ("created_at", "updated_at")
    inlines = [MembershipInline]
    actions: list = []  # added by the apps that own them (add_tenant_action)

    def has_delete_permission(self, request, obj=None):
        # A workspace goes through "Erase workspace data" (audited, closes it first), never a raw delete.
        return False

    def save_model(self, request, obj, form, change):
        fields = [name for name in form.changed_data if name in tenant_services.TENANT_PLATFORM_FIELDS]
        values = {name: form.cleaned_data[name] for name in fields}
        if not change:
            tenant = tenant_services.tenant_platform_create(actor=request.user, request=request, **values)
            obj.pk = tenant.pk
            obj.refresh_from_db()
        elif values:
            tenant_services.tenant_platform_update(tenant=obj, actor=request.user, request=request, **values)
        for react in _save_hooks:  # compliance: the kill-switch fields go through its audited service
            react(request=request, tenant=obj, form=form)
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)
        with tenant_context(form.instance):
            # Additions and promotions first, so one save may hand the admin role over.
            for membership in formset.new_objects:
                tenant_services.membership_add(
                    user=membership.user, role=membership.role, actor=request.user, request=request
                )
            changed = sorted(formset.changed_objects, key=lambda pair: pair[0].role != Role.ADMIN)
            for membership, fields in changed:
                if "user" in fields:
                    raise ValidationError("A membership's user cannot change: remove it and add the other user.")
                if "role" in fields:
                    tenant_services.membership_role_change(
                        membership=membership, role=membership.role, actor=request.user, request=request
                    )
            for membership in formset.deleted_objects:
                tenant_services.membership_remove(membership=membership, actor=request.user, request=request)


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin, ServiceAdmin):
    """Role changes and removals through the tenants services; members are added on the
    workspace's page (or join by invitation)."""

    list_display = ("user", "tenant", "role", "created_at")
    list_filter = ("role", "tenant")
    search_fields = ("user__email", "tenant__name")
    fields = ("user", "tenant", "role", "created_at")
    readonly_fields = ("user", "tenant", "created_at")

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        if "role" in form.changed_data:
            with tenant_context(obj.tenant_id):
                tenant_services.membership_role_change(
                    membership=obj, role=form.cleaned_data["role"], actor=request.user, request=request
                )

    def delete_model(self, request, obj):
        with tenant_context(obj.tenant_id):
            tenant_services.membership_remove(membership=obj, actor=request.user, request=request)


@admin.register(Invitation)
class InvitationAdmin(TenantScopedAdmin, ServiceAdmin):
    """Read-only but for "Revoke" (invitation_revoke, audited): a deleted row would leave no trace."""

    list_display = ("email", "tenant", "role", "created_at", "expires_at", "accepted_at", "revoked_at")
    list_filter = ("role", "tenant")
    search_fields = ("email",)
    readonly_fields = [f.name for f in Invitation._meta.fields if f.name != "token_hash"]
    exclude = ("token_hash",)
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke the selected invitations")
    def revoke(self, request, queryset):
        open_invitations = list(queryset.filter(accepted_at=None, revoked_at=None))
        for invitation in open_invitations:
            with tenant_context(invitation.tenant_id):
                tenant_services.invitation_revoke(invitation=invitation, actor=request.user, request=request)
        self.message_user(request, f"{len(open_invitations)} invitation(s) revoked.")


class WorkspaceFlagForm(forms.ModelForm):
    class Meta:
        model = WorkspaceFlag
        fields = ["name", "note", "killed", "killed_reason", "everyone", "percent", "allowed", "denied"]
        help_texts = {
            "name": "What the code asks for, e.g. ai_replies (waffle's `{% flag %}`, tenants.flags.flag_enabled).",
            "note": "What the flag guards and who to ask about it.",
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("killed") and not (data.get("killed_reason") or "").strip():
            self.add_error("killed_reason", "Say why the flag is killed (it shows to whoever looks next).")
        allowed, denied = set(data.get("allowed") or []), set(data.get("denied") or [])
        if allowed & denied:
            self.add_error("denied", "A workspace cannot be both allowed and denied.")
        return data


@admin.register(WorkspaceFlag)
class WorkspaceFlagAdmin(admin.ModelAdmin):
    """Feature flags (tenants.flags): killed, allow / deny lists, on / off for everyone, or a
    percentage of workspaces. Every save and delete is audited with the flag's new state."""

    form = WorkspaceFlagForm
    list_display = ["name", "state", "note", "modified"]
    search_fields = ["name", "note"]
    filter_horizontal = ["allowed", "denied"]
    ordering = ["name"]

    @admin.display(description="State")
    def state(self, obj: WorkspaceFlag) -> str:
        return obj.state()

    def save_related(self, request: Any, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        flag = form.instance
        audit.record(
            "flag.changed" if change else "flag.created",
            actor=request.user,
            tenant=None,
            target=flag,
            request=request,
            metadata=_flag_summary(flag),
        )

    def delete_model(self, request: Any, obj: WorkspaceFlag) -> None:
        summary = _flag_summary(obj)
        super().delete_model(request, obj)
        audit.record("flag.deleted", actor=request.user, tenant=None, request=request, metadata=summary)


def _flag_summary(flag: WorkspaceFlag) -> dict[str, Any]:
    return {
        "name": flag.name,
        "state": flag.state(),
        "killed_reason": flag.killed_reason,
        "allowed": sorted(tenant.slug for tenant in flag.allowed.all()),
        "denied": sorted(tenant.slug for tenant in flag.denied.all()),
    }
