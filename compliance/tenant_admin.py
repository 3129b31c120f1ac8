"""Compliance's controls on the platform console's workspace page (tenants.admin.TenantAdmin).

The tenant kill-switch (the "sending enabled" fields and the stop/resume actions, each flip audited
with its reason) and "Erase workspace data (GDPR)". tenants sits below compliance, so it owns the
registry (add_tenant_action / on_tenant_saved) and compliance.apps registers these at start-up.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count
from django.template.response import TemplateResponse

from compliance.privacy import tenant_erase_request
from compliance.services import tenant_sending_set
from tenants.admin import add_tenant_action, on_tenant_saved
from tenants.models import Membership


def kill_switch_saved(*, request: Any, tenant: Any, form: Any) -> None:
    """The kill-switch fields go through their service so the flip is audited with its reason."""
    if {"sending_enabled", "sending_disabled_reason"} & set(form.changed_data):
        tenant_sending_set(
            tenant=tenant,
            enabled=form.cleaned_data["sending_enabled"],
            reason=form.cleaned_data["sending_disabled_reason"],
            actor=request.user,
            request=request,
        )


@admin.action(description="Stop sending (tenant kill-switch)")
def stop_sending(modeladmin: Any, request: Any, queryset: Any) -> None:
    for tenant in queryset:
        tenant_sending_set(
            tenant=tenant, enabled=False, reason="Stopped by platform staff", actor=request.user, request=request
        )
    modeladmin.message_user(request, f"Sending stopped for {queryset.count()} tenant(s).")


@admin.action(description="Resume sending")
def resume_sending(modeladmin: Any, request: Any, queryset: Any) -> None:
    for tenant in queryset:
        tenant_sending_set(tenant=tenant, enabled=True, reason="", actor=request.user, request=request)
    modeladmin.message_user(request, f"Sending resumed for {queryset.count()} tenant(s).")


@admin.action(description="Erase workspace data (GDPR)")
def erase_workspace_data(modeladmin: Any, request: Any, queryset: Any) -> Any:
    """Asks first (a page listing what goes); on "yes" each workspace is closed, its sending
    stopped and `compliance.jobs.erase_tenant` queued, audited as `tenant.erase_requested`."""
    if request.POST.get("confirm") == "yes":
        tenants = list(queryset)
        for tenant in tenants:
            tenant_erase_request(tenant=tenant, actor=request.user, request=request)
        modeladmin.message_user(
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
        **modeladmin.admin_site.each_context(request),
        "title": "Erase workspace data?",
        "opts": modeladmin.model._meta,
        "tenants": [(tenant, counts.get(tenant.pk, 0)) for tenant in queryset],
        "action_name": "erase_workspace_data",
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/tenants/erase_confirmation.html", context)


def register() -> None:
    """Called once from compliance.apps: the actions in the order the console lists them."""
    on_tenant_saved(kill_switch_saved)
    for action in (stop_sending, resume_sending, erase_workspace_data):
        add_tenant_action(action)
