"""Portal page for a workspace's compliance settings: keywords, replies, quiet hours, caps, retention."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.roles import Perm
from aerostic.core.errors import DomainError
from compliance import services
from compliance.forms import ComplianceSettingsForm
from compliance.policy import compliance_settings_for
from tenants.portal_base import PortalView


def _initial(settings_row: Any) -> dict[str, Any]:
    return {
        "extra_opt_out_words": ", ".join(settings_row.extra_opt_out_words),
        "extra_opt_in_words": ", ".join(settings_row.extra_opt_in_words),
        "opt_out_reply": settings_row.opt_out_reply,
        "opt_in_reply": settings_row.opt_in_reply,
        "block_utility_when_opted_out": settings_row.block_utility_when_opted_out,
        "quiet_hours_enabled": settings_row.quiet_hours_enabled,
        "quiet_hours_start": settings_row.quiet_hours_start,
        "quiet_hours_end": settings_row.quiet_hours_end,
        "quiet_hours_categories": settings_row.quiet_hours_categories,
        "marketing_cap_messages": settings_row.marketing_cap_messages,
        "marketing_cap_days": settings_row.marketing_cap_days,
        "message_retention_days": settings_row.message_retention_days,
    }


class ComplianceSettingsView(PortalView):
    template_name = "compliance/settings.html"
    required_permission = Perm.SETTINGS_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["form"] = kwargs.get("form") or ComplianceSettingsForm(
            initial=_initial(compliance_settings_for(self.request.tenant.pk))
        )
        context["can_manage"] = self.can(Perm.COMPLIANCE_MANAGE)
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can(Perm.COMPLIANCE_MANAGE):
            raise PermissionDenied("Your role does not allow changing compliance settings.")
        form = ComplianceSettingsForm(request.POST)
        if form.is_valid():
            values = dict(form.cleaned_data)
            for key in ("extra_opt_out_words", "extra_opt_in_words"):
                values[key] = [word.strip() for word in values[key].split(",") if word.strip()]
            try:
                services.compliance_settings_update(actor=request.user, request=request, **values)
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, "Compliance settings saved.")
                return redirect("compliance:settings")
        return self.render_to_response(self.get_context_data(form=form), status=400)
