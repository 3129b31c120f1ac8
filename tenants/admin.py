"""Platform console: tenants (with the tenant kill-switch), memberships, invitations."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.template.response import TemplateResponse

from aerostic.core.admin_site import TenantScopedAdmin
from compliance.services import tenant_sending_set
from tenants.models import Invitation, Membership, Tenant


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    raw_id_fields = ("user",)

    def get_queryset(self, request):
        return Membership.all_tenants.select_related("user")


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "status", "sending_enabled", "sending_disabled_reason", "created_at")
    list_filter = ("status", "sending_enabled")
    search_fields = ("name", "slug")
    readonly_fields = ("created_at", "updated_at")
    inlines = [MembershipInline]
    actions = ["stop_sending", "resume_sending", "erase_workspace_data"]

    def save_model(self, request, obj, form, change):
        # The kill-switch goes through its service so the flip is audited with its reason.
        switch_changed = change and {"sending_enabled", "sending_disabled_reason"} & set(form.changed_data)
        enabled, reason = obj.sending_enabled, obj.sending_disabled_reason
        if switch_changed:
            original = Tenant.objects.get(pk=obj.pk)
            obj.sending_enabled = original.sending_enabled
            obj.sending_disabled_reason = original.sending_disabled_reason
        super().save_model(request, obj, form, change)
        if switch_changed:
            try:
                tenant_sending_set(tenant=obj, enabled=enabled, reason=reason, actor=request.user, request=request)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), level=messages.ERROR)

    def save_formset(self, request, form, formset, change):
        from tenants.context import tenant_context

        with tenant_context(form.instance):
            super().save_formset(request, form, formset, change)

    @admin.action(description="Stop sending (tenant kill-switch)")
    def stop_sending(self, request, queryset):
        for tenant in queryset:
            tenant_sending_set(
                tenant=tenant, enabled=False, reason="Stopped by platform staff", actor=request.user, request=request
            )
        self.message_user(request, f"Sending stopped for {queryset.count()} tenant(s).")

    @admin.action(description="Resume sending")
    def resume_sending(self, request, queryset):
        for tenant in queryset:
            tenant_sending_set(tenant=tenant, enabled=True, reason="", actor=request.user, request=request)
        self.message_user(request, f"Sending resumed for {queryset.count()} tenant(s).")

    @admin.action(description="Erase workspace data (GDPR)")
    def erase_workspace_data(self, request, queryset):
        """Asks first (a page listing what goes); on "yes" each workspace is closed, its sending
        stopped and `compliance.jobs.erase_tenant` queued, audited as `tenant.erase_requested`."""
        from compliance.privacy import tenant_erase_request

        if request.POST.get("confirm") == "yes":
            tenants = list(queryset)
            for tenant in tenants:
                tenant_erase_request(tenant=tenant, actor=request.user, request=request)
            self.message_user(
                request,
                f"Erase queued for {len(tenants)} workspace(s); they are closed until it runs.",
                messages.WARNING,
            )
            return None
        counts = dict(
            Membership.all_tenants.filter(tenant__in=queryset)
            .values("tenant_id")
            .annotate(members=Count("id"))
            .values_list("tenant_id", "members")
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Erase workspace data?",
            "opts": self.model._meta,
            "tenants": [(tenant, counts.get(tenant.pk, 0)) for tenant in queryset],
            "action_name": "erase_workspace_data",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/tenants/erase_confirmation.html", context)


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin):
    list_display = ("user", "tenant", "role", "created_at")
    list_filter = ("role", "tenant")
    search_fields = ("user__email", "tenant__name")
    raw_id_fields = ("user",)
    readonly_fields = ("tenant",)


@admin.register(Invitation)
class InvitationAdmin(TenantScopedAdmin):
    list_display = ("email", "tenant", "role", "created_at", "expires_at", "accepted_at", "revoked_at")
    list_filter = ("role", "tenant")
    search_fields = ("email",)
    readonly_fields = [f.name for f in Invitation._meta.fields if f.name != "token_hash"]
    exclude = ("token_hash",)

    def has_add_permission(self, request):
        return False
