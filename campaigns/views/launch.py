"""Review and launch a draft; a campaign's page with its live statistics; pause, resume, cancel."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.roles import Perm
from aerostic.core.errors import Conflict
from aerostic.core.money import format_money
from campaigns import costing, selectors, services
from campaigns.mapping import CampaignInvalid, values_for
from campaigns.models import Campaign, CampaignMessage, CampaignVariant
from campaigns.selectors import COUNTED
from campaigns.views.common import LIVE, STATUS_KIND, CampaignPage, estimate_view, flash_problems
from contacts import selectors as contact_selectors
from whatsapp.message_templates.rendering import TemplateParameterError, sample_values, template_fill

Status = Campaign.Status


def _preview(variant: CampaignVariant, contact: Any) -> dict[str, Any]:
    """The message a variant sends, filled with the first audience contact's values (masked number);
    variables not mapped yet, or the whole message when that contact would be skipped, show the
    template's own examples."""
    template = variant.template
    values = sample_values(components=template.components, parameter_format=template.parameter_format)
    note = ""
    if contact is not None:
        found, missing = values_for(variant.mapping, contact, contact.phone_hint)
        if found is None:
            note = (
                f"{contact.name or contact.phone_hint} would be skipped: {missing} The template's examples are shown."
            )
        else:
            for section, filled in found.items():
                values.setdefault(section, {}).update(filled)
    try:
        text = template_fill(
            components=template.components, parameter_format=template.parameter_format, values=values
        ).preview
    except TemplateParameterError as error:
        text, note = "", f"The message cannot be built: {error}"
    return {"variant": variant, "text": text, "note": note}


class CampaignReviewView(CampaignPage):
    """Everything the launch checks, the audience by country, the cost estimate and a preview."""

    template_name = "campaigns/campaign_review.html"
    required_permission = Perm.CAMPAIGNS_VIEW

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        campaign = self.get_campaign()
        if not campaign.is_editable:
            return redirect("campaigns:detail", campaign_id=campaign.pk)
        return self.render_to_response(self.get_context_data(campaign=campaign))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        campaign = kwargs["campaign"]
        check = services.launch_check(campaign)
        contact = services.audience_contacts(campaign).order_by("pk").first()
        variants = list(campaign.variants.select_related("template__account"))
        context.update(
            campaign=campaign,
            check=check,
            estimate=estimate_view(check.estimate),
            previews=[_preview(variant, contact) for variant in variants],
            preview_contact=contact,
            can_edit=self.can(Perm.CAMPAIGNS_EDIT),
            can_launch=self.can(Perm.CAMPAIGNS_LAUNCH),
        )
        return context


class CampaignLaunchView(CampaignPage):
    """POST only. The service's row lock makes a double click launch once: the second request is
    refused with Conflict and lands on the campaign's page."""

    required_permission = Perm.CAMPAIGNS_LAUNCH
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        campaign = self.get_campaign()
        try:
            launched = services.campaign_launch(campaign=campaign, actor=request.user, request=request)
        except Conflict as conflict:
            messages.error(request, conflict.message)
            return redirect("campaigns:detail", campaign_id=campaign.pk)
        except CampaignInvalid as invalid:
            flash_problems(request, invalid.problems, invalid.message)
            return redirect("campaigns:review", campaign_id=campaign.pk)
        skipped = sum(launched.skip_reasons.values())
        when = "scheduled" if launched.status == Status.SCHEDULED else "launched"
        messages.success(
            request,
            f"Campaign {when}: {launched.recipients_total - skipped} recipients"
            + (f", {skipped} skipped." if skipped else "."),
        )
        return redirect("campaigns:detail", campaign_id=campaign.pk)


def stats_context(campaign: Campaign, *, can_launch: bool) -> dict[str, Any]:
    """The live part of the campaign page (and its htmx fragment): polled while the campaign may
    still change, without a trigger once it is finished."""
    stats = selectors.campaign_stats(campaign)
    labels = dict(CampaignMessage.State.choices)
    return {
        "campaign": campaign,
        "status_kind": STATUS_KIND.get(campaign.status, "neutral"),
        "stats": stats,
        "counters": [(state, labels[state], stats.counts[state]) for state in COUNTED],
        "variant_rows": selectors.variant_stats(campaign),
        "failures": selectors.failure_reasons(campaign),
        "polling": campaign.status in LIVE,
        "can_launch": can_launch,
        "cost": cost_view(campaign),
    }


def cost_view(campaign: Campaign) -> dict[str, Any] | None:
    """Estimated (at launch) and actual (the ledger: delivered messages Meta priced) side by side."""
    if not campaign.launched_at:
        return None
    actual = costing.campaign_actual(campaign)
    if actual is None:
        return None
    return {
        "estimate": estimate_view(campaign.estimate or {}),
        "actual": format_money(actual["total_micros"], actual["currency"]),
        "charged": actual["charged_messages"],
        "free": actual["free_messages"],
        "unpriced": actual["unpriced_messages"],
    }


class CampaignDetailView(CampaignPage):
    template_name = "campaigns/campaign_detail.html"
    required_permission = Perm.CAMPAIGNS_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        campaign = self.get_campaign()
        context.update(stats_context(campaign, can_launch=self.can(Perm.CAMPAIGNS_LAUNCH)))
        context.update(
            variants=list(campaign.variants.select_related("template")),
            lists=list(contact_selectors.list_all().filter(pk__in=campaign.list_ids)),
            segments=list(contact_selectors.segment_all().filter(pk__in=campaign.segment_ids)),
            skip_reasons=sorted(campaign.skip_reasons.items(), key=lambda item: -item[1]),
            estimate=estimate_view(campaign.estimate) if campaign.launched_at else None,
            can_edit=self.can(Perm.CAMPAIGNS_EDIT),
        )
        return context


class CampaignStatsView(CampaignPage):
    """The fragment the campaign page polls every 2 seconds."""

    template_name = "campaigns/campaign_detail.html#stats"
    required_permission = Perm.CAMPAIGNS_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(stats_context(self.get_campaign(), can_launch=self.can(Perm.CAMPAIGNS_LAUNCH)))
        return context


class CampaignActionView(CampaignPage):
    """POST pause / resume / cancel; a refusal (Conflict) comes back as an error message."""

    required_permission = Perm.CAMPAIGNS_LAUNCH
    http_method_names = ["post"]
    action = ""
    done = {"pause": "Campaign paused.", "resume": "Campaign resumed.", "cancel": "Campaign cancelled."}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        campaign = self.get_campaign()
        service = {
            "pause": services.campaign_pause,
            "resume": services.campaign_resume,
            "cancel": services.campaign_cancel,
        }[self.action]
        try:
            service(campaign=campaign, actor=request.user, request=request)
        except Conflict as conflict:
            messages.error(request, conflict.message)
        else:
            messages.success(request, self.done[self.action])
        return redirect("campaigns:detail", campaign_id=campaign.pk)
