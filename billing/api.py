"""/api/v1/billing/…: read-only billing for every member (Perm.BILLING_VIEW): a cycle's usage, the
ledger (paginated, filtered), the rate card in force, and a cost estimate for an audience and a
template before a campaign exists. Each view calls one selector; bad input is a 400 by field."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import Perm
from billing import selectors
from billing.cycles import cycle_start
from billing.serializers import (
    EstimateInput,
    EstimateOutput,
    LedgerEntryOutput,
    LedgerQuery,
    RateCardOutput,
    RateCardQuery,
    UsageOutput,
    UsageQuery,
)
from campaigns.models import Campaign, CampaignVariant
from campaigns.services import audience_by_country
from contacts.selectors import list_get, segment_get
from tenants.api_base import TenantAPIView
from whatsapp.message_templates.selectors import template_get

BAD_INPUT = OpenApiResponse(description="Wrong input: an object of field → messages.")
NO_CARD = OpenApiResponse(description="No rate card of that currency is in force at that time.")


def _query(serializer_class: type, request: Request) -> dict[str, Any]:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


def _cycle(day: Any) -> Any:
    """Any day → the first day of the workspace's cycle containing it."""
    return cycle_start(selectors.billing_profile_get().cycle_day, day) if day else None


class BillingUsageApi(TenantAPIView):
    required_permissions = {"GET": Perm.BILLING_VIEW}

    @extend_schema(
        parameters=[OpenApiParameter("cycle", str, description="YYYY-MM-DD, any day of the cycle")],
        responses={200: UsageOutput, 400: BAD_INPUT},
    )
    def get(self, request: Request) -> Response:
        """One billing cycle: spend by category and market, daily totals, top campaigns, counters, AI usage."""
        query = _query(UsageQuery, request)
        return Response(UsageOutput(selectors.usage_summary(cycle=_cycle(query.get("cycle")))).data)


class BillingLedgerApi(TenantAPIView):
    required_permissions = {"GET": Perm.BILLING_VIEW}
    pagination_class = PageNumberPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("cycle", str, description="YYYY-MM-DD, any day of the cycle"),
            OpenApiParameter("kind", str, enum=["debit", "credit", "adjustment"]),
            OpenApiParameter("campaign", int),
            OpenApiParameter("since", str, description="ISO 8601 with offset"),
            OpenApiParameter("until", str, description="ISO 8601 with offset (exclusive)"),
        ],
        responses={200: LedgerEntryOutput(many=True), 400: BAD_INPUT},
    )
    def get(self, request: Request) -> Response:
        """The ledger, newest first. Amounts are signed micro-units (debits negative)."""
        query = _query(LedgerQuery, request)
        rows = selectors.ledger_entries(
            cycle=_cycle(query.get("cycle")),
            kind=query.get("kind"),
            campaign=query.get("campaign"),
            since=query.get("since"),
            until=query.get("until"),
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(LedgerEntryOutput(page, many=True).data)


class BillingRateCardApi(TenantAPIView):
    required_permissions = {"GET": Perm.BILLING_VIEW}

    @extend_schema(
        parameters=[
            OpenApiParameter("currency", str, description="ISO 4217 (default: the workspace's)"),
            OpenApiParameter("at", str, description="ISO 8601 with offset (default: now)"),
        ],
        responses={200: RateCardOutput, 400: BAD_INPUT, 404: NO_CARD},
    )
    def get(self, request: Request) -> Response:
        """Meta's card in force: price per market and category, with each market's countries."""
        query = _query(RateCardQuery, request)
        currency = (query.get("currency") or selectors.billing_profile_get().currency).upper()
        card = selectors.rate_card_in_force(currency=currency, at=query.get("at"))
        if card is None:
            raise exceptions.NotFound(f"No {currency} rate card is in force then.")
        return Response(RateCardOutput(card).data)


class BillingEstimateApi(TenantAPIView):
    required_permissions = {"POST": Perm.BILLING_VIEW}

    @extend_schema(request=EstimateInput, responses={200: EstimateOutput, 400: BAD_INPUT})
    def post(self, request: Request) -> Response:
        """What sending these templates to these lists and segments would cost, from the rate card in
        force (the same estimate a campaign stores at launch). Writes nothing."""
        data = EstimateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        errors: dict[str, list[str]] = {}
        chosen = values.get("variants") or [{"template_id": values["template_id"], "percentage": 100}]
        variants = []
        for choice in chosen:
            try:
                template = template_get(choice["template_id"])
            except ObjectDoesNotExist:
                field = "variants" if values.get("variants") else "template_id"
                errors.setdefault(field, []).append(f"No template {choice['template_id']}.")
                continue
            variants.append(CampaignVariant(template=template, percentage=choice["percentage"]))
        for field, getter in (("list_ids", list_get), ("segment_ids", segment_get)):
            for pk in values[field]:
                try:
                    getter(pk)
                except ObjectDoesNotExist:
                    errors.setdefault(field, []).append(f"No {field[:-4]} {pk}.")
        if errors:
            raise exceptions.ValidationError(errors)
        # An unsaved campaign carries the audience and the send time to the campaign's own selectors.
        campaign = Campaign(
            tenant_id=request.tenant.pk,
            list_ids=values["list_ids"],
            segment_ids=values["segment_ids"],
            send_at=values.get("send_at"),
        )
        by_country = audience_by_country(campaign)
        estimate = selectors.campaign_estimate(campaign=campaign, by_country=by_country, variants=variants)
        estimate["recipients"] = sum(by_country.values())
        return Response(EstimateOutput(estimate).data)
