"""/api/v1/campaigns/…: drafts, the pre-launch check, launch / pause / resume / cancel, live stats
and the recipient table. Each view calls one service or selector; domain errors become 4xx in
aerostic.core.api.exception_handler (CampaignInvalid → 400 with `problems`, Conflict → 409).
Recipients are shown masked (`phone_hint`), never with their number."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import Perm
from campaigns import selectors, services
from campaigns.models import Campaign, CampaignMessage
from campaigns.serializers import (
    CampaignCheckOutput,
    CampaignErrorOutput,
    CampaignInput,
    CampaignOutput,
    CampaignPauseInput,
    CampaignRecipientOutput,
    CampaignStatsOutput,
)
from tenants.api_base import TenantAPIView

INVALID = OpenApiResponse(
    CampaignErrorOutput,
    description="Wrong input: `problems` lists each field and what is wrong with it (a value of the wrong type "
    "is answered by field instead, as DRF does).",
)
CONFLICT = OpenApiResponse(CampaignErrorOutput, description="Not possible in the campaign's current status.")


def _page(request: Request, view: Any, rows: Any, serializer: type[serializers.Serializer]) -> Response:
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)


def _draft_values(request: Request) -> dict[str, Any]:
    """The input checked for shape; the rules (the number, the audience, templates, mapping) are the service's."""
    data = CampaignInput(data=request.data)
    data.is_valid(raise_exception=True)
    values = data.validated_data
    return {
        "name": values["name"],
        "phone_number_id": values["phone_number"],
        "list_ids": values["list_ids"],
        "segment_ids": values["segment_ids"],
        "send_at": values["send_at"],
        "variants": [dict(variant) for variant in values["variants"]],
    }


def _output(campaign: Campaign, status: int = 200) -> Response:
    return Response(CampaignOutput(selectors.campaign_get(campaign.pk)).data, status=status)


class CampaignListApi(TenantAPIView):
    required_permissions = {"GET": Perm.CAMPAIGNS_VIEW, "POST": Perm.CAMPAIGNS_EDIT}
    pagination_class = PageNumberPagination

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=Campaign.Status.values)],
        responses=CampaignOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        rows = selectors.campaign_list(status=request.query_params.get("status", ""))
        return _page(request, self, rows, CampaignOutput)

    @extend_schema(request=CampaignInput, responses={201: CampaignOutput, 400: INVALID})
    def post(self, request: Request) -> Response:
        """Creates a draft. Wrong input answers 400 with `problems` (each with `where` and `message`)."""
        campaign = services.campaign_create(**_draft_values(request), actor=request.user, request=request)
        return _output(campaign, status=201)


class CampaignDetailApi(TenantAPIView):
    required_permissions = {"GET": Perm.CAMPAIGNS_VIEW, "PUT": Perm.CAMPAIGNS_EDIT, "DELETE": Perm.CAMPAIGNS_EDIT}

    @extend_schema(responses=CampaignOutput)
    def get(self, request: Request, campaign_id: int) -> Response:
        return Response(CampaignOutput(selectors.campaign_get(campaign_id)).data)

    @extend_schema(request=CampaignInput, responses={200: CampaignOutput, 400: INVALID, 409: CONFLICT})
    def put(self, request: Request, campaign_id: int) -> Response:
        """Replaces a draft (409 once it was launched)."""
        campaign = selectors.campaign_get(campaign_id)
        values = _draft_values(request)
        campaign = services.campaign_update(campaign=campaign, **values, actor=request.user, request=request)
        return _output(campaign)

    @extend_schema(responses={204: None, 409: CONFLICT})
    def delete(self, request: Request, campaign_id: int) -> Response:
        """A draft or a finished campaign (409 while scheduled, running or paused: cancel it first)."""
        services.campaign_delete(campaign=selectors.campaign_get(campaign_id), actor=request.user, request=request)
        return Response(status=204)


class CampaignCheckApi(TenantAPIView):
    required_permissions = {"GET": Perm.CAMPAIGNS_VIEW}

    @extend_schema(responses=CampaignCheckOutput)
    def get(self, request: Request, campaign_id: int) -> Response:
        """What a launch would say now: problems (refuse it), warnings, the audience and the estimate."""
        return Response(CampaignCheckOutput(services.launch_check(selectors.campaign_get(campaign_id))).data)


class CampaignLaunchApi(TenantAPIView):
    required_permissions = {"POST": Perm.CAMPAIGNS_LAUNCH}

    @extend_schema(request=None, responses={200: CampaignOutput, 400: INVALID, 409: CONFLICT})
    def post(self, request: Request, campaign_id: int) -> Response:
        """Snapshots the audience and starts sending (or waits for `send_at`). 400 with `problems`
        when the check refuses it; 409 when it was already launched."""
        campaign = services.campaign_launch(
            campaign=selectors.campaign_get(campaign_id), actor=request.user, request=request
        )
        return _output(campaign)


class CampaignPauseApi(TenantAPIView):
    required_permissions = {"POST": Perm.CAMPAIGNS_LAUNCH}

    @extend_schema(request=CampaignPauseInput, responses={200: CampaignOutput, 409: CONFLICT})
    def post(self, request: Request, campaign_id: int) -> Response:
        campaign = selectors.campaign_get(campaign_id)
        data = CampaignPauseInput(data=request.data)
        data.is_valid(raise_exception=True)
        campaign = services.campaign_pause(
            campaign=campaign, reason=data.validated_data["reason"], actor=request.user, request=request
        )
        return _output(campaign)


class CampaignResumeApi(TenantAPIView):
    required_permissions = {"POST": Perm.CAMPAIGNS_LAUNCH}

    @extend_schema(request=None, responses={200: CampaignOutput, 409: CONFLICT})
    def post(self, request: Request, campaign_id: int) -> Response:
        """Continues with the recipients still queued."""
        campaign = services.campaign_resume(
            campaign=selectors.campaign_get(campaign_id), actor=request.user, request=request
        )
        return _output(campaign)


class CampaignCancelApi(TenantAPIView):
    required_permissions = {"POST": Perm.CAMPAIGNS_LAUNCH}

    @extend_schema(request=None, responses={200: CampaignOutput, 409: CONFLICT})
    def post(self, request: Request, campaign_id: int) -> Response:
        """Stops it for good: recipients not sent yet become `cancelled`."""
        campaign = services.campaign_cancel(
            campaign=selectors.campaign_get(campaign_id), actor=request.user, request=request
        )
        return _output(campaign)


class CampaignStatsApi(TenantAPIView):
    required_permissions = {"GET": Perm.CAMPAIGNS_VIEW}

    @extend_schema(responses=CampaignStatsOutput)
    def get(self, request: Request, campaign_id: int) -> Response:
        campaign = selectors.campaign_get(campaign_id)
        body = {
            **selectors.campaign_stats(campaign).as_dict(),
            "status": campaign.status,
            "status_reason": campaign.status_reason,
            "recipients_total": campaign.recipients_total,
            "variants": [
                {
                    "label": variant.label,
                    "template": variant.template,
                    "percentage": variant.percentage,
                    **stats.as_dict(),
                }
                for variant, stats in selectors.variant_stats(campaign)
            ],
            "failure_reasons": selectors.failure_reasons(campaign),
            "skip_reasons": campaign.skip_reasons,
        }
        return Response(CampaignStatsOutput(body).data)


class CampaignRecipientsApi(TenantAPIView):
    required_permissions = {"GET": Perm.CAMPAIGNS_VIEW}
    pagination_class = PageNumberPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("state", str, enum=CampaignMessage.State.values),
            OpenApiParameter("variant", str, enum=["A", "B", "C"]),
            OpenApiParameter("error_code", int, description="Meta's error code"),
        ],
        responses=CampaignRecipientOutput(many=True),
    )
    def get(self, request: Request, campaign_id: int) -> Response:
        campaign = selectors.campaign_get(campaign_id)
        params = request.query_params
        rows = selectors.campaign_recipients(
            campaign,
            state=params.get("state", ""),
            variant=params.get("variant", ""),
            error_code=params.get("error_code"),
        )
        return _page(request, self, rows, CampaignRecipientOutput)
