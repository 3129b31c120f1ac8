"""The campaign list and the draft: new, edit, the variable mapping, delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.roles import Perm
from aerostic.core.errors import Conflict, DomainError
from campaigns import selectors, services
from campaigns.forms import SCHEDULE_AT_LAUNCH, SCHEDULE_LATER, CampaignForm, MappingForm, local_input
from campaigns.mapping import CampaignInvalid, template_variables
from campaigns.models import Campaign
from campaigns.views.common import STATUS_KIND, CampaignPage, percent, workspace_zone
from contacts import selectors as contact_selectors
from tenants.portal_base import PortalView
from whatsapp import selectors as whatsapp_selectors
from whatsapp.message_templates.selectors import templates_for

LIST_PAGE_SIZE = 25


class CampaignListView(PortalView):
    template_name = "campaigns/campaign_list.html"
    required_permission = Perm.CAMPAIGNS_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        status = self.request.GET.get("status", "")
        page = Paginator(selectors.campaign_list(status=status), LIST_PAGE_SIZE).get_page(self.request.GET.get("page"))
        rows = []
        for campaign in page:
            row: dict[str, Any] = {"campaign": campaign, "kind": STATUS_KIND.get(campaign.status, "neutral")}
            if campaign.status != Campaign.Status.DRAFT:
                stats = selectors.campaign_stats(campaign)
                row.update(
                    sent=percent(stats.accepted, stats.total),
                    delivered=percent(stats.delivered_or_read, stats.total),
                    read=percent(stats.counts["read"], stats.total),
                )
            rows.append(row)
        context.update(
            page_obj=page,
            rows=rows,
            status=status,
            statuses=Campaign.Status.choices,
            zone=workspace_zone(self.request),
            can_edit=self.can(Perm.CAMPAIGNS_EDIT),
        )
        return context


def _form_options(request: HttpRequest) -> dict[str, Any]:
    """The choices of the draft form: active numbers, lists (with their size), segments, templates
    grouped by WhatsApp account (the service refuses a template of another number's account)."""
    accounts = list(whatsapp_selectors.account_list())
    phones = [
        (str(phone.pk), f"{phone.display_phone_number} · {phone.verified_name or account.name or account.waba_id}")
        for account in accounts
        for phone in account.phone_numbers.all()
    ]
    by_account: dict[int, list[tuple[str, str]]] = {account.pk: [] for account in accounts}
    for template in templates_for():
        if template.account_id in by_account:
            label = f"{template.name} ({template.language}) · {template.get_status_display()}"
            by_account[template.account_id].append((str(template.pk), label))
    templates = [
        (f"{account.name or 'WhatsApp account'} ({account.waba_id})", by_account[account.pk])
        for account in accounts
        if by_account[account.pk]
    ]
    return {
        "phones": phones,
        "lists": [(str(item.pk), f"{item.name} ({item.size})") for item in contact_selectors.list_all()],
        "segments": [(str(item.pk), item.name) for item in contact_selectors.segment_all()],
        "templates": templates,
        "zone": workspace_zone(request),
    }


def _next_step(campaign: Campaign) -> HttpResponse:
    """After the draft is saved: the variable mapping when a template has variables, else the review."""
    has_variables = any(
        template_variables(variant.template) for variant in campaign.variants.select_related("template")
    )
    return redirect("campaigns:mapping" if has_variables else "campaigns:review", campaign_id=campaign.pk)


class CampaignCreateView(PortalView):
    template_name = "campaigns/campaign_form.html"
    required_permission = Perm.CAMPAIGNS_EDIT

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = kwargs.get("form") or CampaignForm(initial={"variant_a_percentage": 100}, **_form_options(self.request))
        context.update(form=form, campaign=None, has_numbers=bool(form.fields["phone_number"].choices))
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = CampaignForm(request.POST, **_form_options(request))
        if form.is_valid():
            try:
                campaign = services.campaign_create(**form.service_input(), actor=request.user, request=request)
            except CampaignInvalid as invalid:
                form.add_problems(invalid.problems)
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"Draft {campaign.name} saved.")
                return _next_step(campaign)
        return self.render_to_response(self.get_context_data(form=form))


class CampaignEditView(CampaignPage):
    template_name = "campaigns/campaign_form.html"
    required_permission = Perm.CAMPAIGNS_EDIT

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        campaign = self.get_campaign()
        if not campaign.is_editable:
            messages.error(request, "Only a draft can be edited: this campaign was launched.")
            return redirect("campaigns:detail", campaign_id=campaign.pk)
        return self.render_to_response(self.get_context_data(campaign=campaign))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        campaign = kwargs["campaign"]
        form = kwargs.get("form") or CampaignForm(initial=self._initial(campaign), **_form_options(self.request))
        context.update(form=form, campaign=campaign, has_numbers=bool(form.fields["phone_number"].choices))
        return context

    def _initial(self, campaign: Campaign) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": campaign.name,
            "phone_number": str(campaign.phone_number_id),
            "lists": [str(pk) for pk in campaign.list_ids],
            "segments": [str(pk) for pk in campaign.segment_ids],
            "schedule": SCHEDULE_LATER if campaign.send_at else SCHEDULE_AT_LAUNCH,
            "send_at": local_input(campaign.send_at, workspace_zone(self.request)),
        }
        for variant in campaign.variants.all():
            initial[f"variant_{variant.label.lower()}_template"] = str(variant.template_id)
            initial[f"variant_{variant.label.lower()}_percentage"] = variant.percentage
        return initial

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        campaign = self.get_campaign()
        form = CampaignForm(request.POST, **_form_options(request))
        if form.is_valid():
            existing = {variant.label: (variant.template_id, variant.mapping) for variant in campaign.variants.all()}
            try:
                campaign = services.campaign_update(
                    campaign=campaign, **form.service_input(existing), actor=request.user, request=request
                )
            except CampaignInvalid as invalid:
                form.add_problems(invalid.problems)
            except Conflict as conflict:
                messages.error(request, conflict.message)
                return redirect("campaigns:detail", campaign_id=campaign.pk)
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"Draft {campaign.name} saved.")
                return _next_step(campaign)
        return self.render_to_response(self.get_context_data(campaign=campaign, form=form))


class CampaignMappingView(CampaignPage):
    """Where each template variable takes its value from, for every variant of the draft."""

    template_name = "campaigns/campaign_mapping.html"
    required_permission = Perm.CAMPAIGNS_EDIT

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        campaign = self.get_campaign()
        if not campaign.is_editable:
            messages.error(request, "Only a draft can be edited: this campaign was launched.")
            return redirect("campaigns:detail", campaign_id=campaign.pk)
        return self.render_to_response(self.get_context_data(campaign=campaign, form=self._form(campaign)))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            campaign=kwargs["campaign"],
            form=kwargs["form"],
            has_attributes=contact_selectors.attribute_definitions().exists(),
        )
        return context

    @staticmethod
    def _form(campaign: Campaign, data: Any = None) -> MappingForm:
        variants = [(v.label, v.template, v.mapping) for v in campaign.variants.select_related("template")]
        attributes = [(d.key, f"{d.label} ({d.key})") for d in contact_selectors.attribute_definitions()]
        return MappingForm(data, variants=variants, attributes=attributes)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        campaign = self.get_campaign()
        form = self._form(campaign, request.POST)
        if form.is_valid():
            variants = list(campaign.variants.all())
            try:
                services.campaign_update(
                    campaign=campaign,
                    name=campaign.name,
                    phone_number_id=campaign.phone_number_id,
                    list_ids=campaign.list_ids,
                    segment_ids=campaign.segment_ids,
                    send_at=campaign.send_at,
                    variants=[
                        {"template_id": v.template_id, "percentage": v.percentage, "mapping": form.mapping_of(v.label)}
                        for v in variants
                    ],
                    actor=request.user,
                    request=request,
                )
            except CampaignInvalid as invalid:
                form.add_problems(invalid.problems)
            except Conflict as conflict:
                messages.error(request, conflict.message)
                return redirect("campaigns:detail", campaign_id=campaign.pk)
            else:
                messages.success(request, "Variables saved.")
                if request.POST.get("then") == "stay":
                    return redirect("campaigns:mapping", campaign_id=campaign.pk)
                return redirect("campaigns:review", campaign_id=campaign.pk)
        return self.render_to_response(self.get_context_data(campaign=campaign, form=form))


class CampaignDeleteView(CampaignPage):
    required_permission = Perm.CAMPAIGNS_EDIT
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        campaign = self.get_campaign()
        try:
            services.campaign_delete(campaign=campaign, actor=request.user, request=request)
        except Conflict as conflict:
            messages.error(request, conflict.message)
            return redirect("campaigns:detail", campaign_id=campaign.pk)
        messages.success(request, f"Campaign {campaign.name} deleted.")
        return redirect("campaigns:index")
