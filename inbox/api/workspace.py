"""/api/v1/inbox/…: the workspace's teams, labels and quick replies (read by every inbox member,
changed by those who manage the workspace's settings, audited: inbox.settings_services), the caller's
availability for round-robin, and the workspace's agents."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import Perm
from inbox import selectors, settings_selectors, settings_services, teamwork
from inbox.models import Label, QuickReply, Team
from inbox.serializers import (
    AgentOutput,
    AvailabilityInput,
    LabelInput,
    LabelOutput,
    QuickReplyInput,
    QuickReplyOutput,
    TeamInput,
    TeamOutput,
)
from tenants.api_base import TenantAPIView

INVALID = OpenApiResponse(description="Wrong input: `problems` names each field and what is wrong with it.")
READ, MANAGE = Perm.INBOX_VIEW, Perm.SETTINGS_MANAGE


def _checked(serializer: Any) -> dict[str, Any]:
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _team(team_id: int) -> Team:
    try:
        return settings_selectors.team_get(team_id)
    except Team.DoesNotExist:
        raise NotFound("There is no such team.") from None


def _label(label_id: int) -> Label:
    try:
        return settings_selectors.label_get(label_id)
    except Label.DoesNotExist:
        raise NotFound("There is no such label.") from None


def _quick_reply(quick_reply_id: int) -> QuickReply:
    try:
        return settings_selectors.quick_reply_get(quick_reply_id)
    except QuickReply.DoesNotExist:
        raise NotFound("There is no such quick reply.") from None


class TeamListApi(TenantAPIView):
    required_permissions = {"GET": READ, "POST": MANAGE}

    @extend_schema(responses=TeamOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(TeamOutput(settings_selectors.team_list(), many=True).data)

    @extend_schema(request=TeamInput, responses={201: TeamOutput, 400: INVALID})
    def post(self, request: Request) -> Response:
        """`members`: user ids of the workspace's agents."""
        values = _checked(TeamInput(data=request.data))
        team = settings_services.team_create(
            name=values["name"], member_ids=values.get("members", []), actor=request.user, request=request
        )
        return Response(TeamOutput(team).data, status=201)


class TeamDetailApi(TenantAPIView):
    required_permissions = {"GET": READ, "PATCH": MANAGE, "DELETE": MANAGE}

    @extend_schema(responses=TeamOutput)
    def get(self, request: Request, team_id: int) -> Response:
        return Response(TeamOutput(_team(team_id)).data)

    @extend_schema(request=TeamInput(partial=True), responses={200: TeamOutput, 400: INVALID})
    def patch(self, request: Request, team_id: int) -> Response:
        """Renames the team and/or replaces its members (the fields given)."""
        team = _team(team_id)
        values = _checked(TeamInput(data=request.data, partial=True))
        team = settings_services.team_update(
            team=team, name=values.get("name"), member_ids=values.get("members"), actor=request.user, request=request
        )
        return Response(TeamOutput(team).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, team_id: int) -> Response:
        """Its conversations stay, without a team."""
        settings_services.team_delete(team=_team(team_id), actor=request.user, request=request)
        return Response(status=204)


class LabelListApi(TenantAPIView):
    required_permissions = {"GET": READ, "POST": MANAGE}

    @extend_schema(responses=LabelOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(LabelOutput(selectors.labels(), many=True).data)

    @extend_schema(request=LabelInput, responses={201: LabelOutput, 400: INVALID})
    def post(self, request: Request) -> Response:
        values = _checked(LabelInput(data=request.data))
        label = settings_services.label_create(
            name=values["name"], color=values.get("color", Label.Color.GREY), actor=request.user, request=request
        )
        return Response(LabelOutput(label).data, status=201)


class LabelDetailApi(TenantAPIView):
    required_permissions = {"GET": READ, "PATCH": MANAGE, "DELETE": MANAGE}

    @extend_schema(responses=LabelOutput)
    def get(self, request: Request, label_id: int) -> Response:
        return Response(LabelOutput(_label(label_id)).data)

    @extend_schema(request=LabelInput(partial=True), responses={200: LabelOutput, 400: INVALID})
    def patch(self, request: Request, label_id: int) -> Response:
        label = _label(label_id)
        values = _checked(LabelInput(data=request.data, partial=True))
        label = settings_services.label_update(
            label=label, name=values.get("name"), color=values.get("color"), actor=request.user, request=request
        )
        return Response(LabelOutput(label).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, label_id: int) -> Response:
        """Taken off every conversation that had it."""
        settings_services.label_delete(label=_label(label_id), actor=request.user, request=request)
        return Response(status=204)


class QuickReplyListApi(TenantAPIView):
    required_permissions = {"GET": READ, "POST": MANAGE}

    @extend_schema(responses=QuickReplyOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(QuickReplyOutput(settings_selectors.quick_reply_list(), many=True).data)

    @extend_schema(request=QuickReplyInput, responses={201: QuickReplyOutput, 400: INVALID})
    def post(self, request: Request) -> Response:
        """`shortcut` is what agents type after a slash (/hours): unique in the workspace."""
        values = _checked(QuickReplyInput(data=request.data))
        quick_reply = settings_services.quick_reply_create(**values, actor=request.user, request=request)
        return Response(QuickReplyOutput(quick_reply).data, status=201)


class QuickReplyDetailApi(TenantAPIView):
    required_permissions = {"GET": READ, "PATCH": MANAGE, "DELETE": MANAGE}

    @extend_schema(responses=QuickReplyOutput)
    def get(self, request: Request, quick_reply_id: int) -> Response:
        return Response(QuickReplyOutput(_quick_reply(quick_reply_id)).data)

    @extend_schema(request=QuickReplyInput(partial=True), responses={200: QuickReplyOutput, 400: INVALID})
    def patch(self, request: Request, quick_reply_id: int) -> Response:
        quick_reply = _quick_reply(quick_reply_id)
        values = _checked(QuickReplyInput(data=request.data, partial=True))
        quick_reply = settings_services.quick_reply_update(
            quick_reply=quick_reply, **values, actor=request.user, request=request
        )
        return Response(QuickReplyOutput(quick_reply).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, quick_reply_id: int) -> Response:
        settings_services.quick_reply_delete(
            quick_reply=_quick_reply(quick_reply_id), actor=request.user, request=request
        )
        return Response(status=204)


class AvailabilityApi(TenantAPIView):
    required_permissions = {"GET": Perm.INBOX_VIEW, "PUT": Perm.INBOX_REPLY}

    @extend_schema(responses=AvailabilityInput)
    def get(self, request: Request) -> Response:
        """Whether round-robin assigns the caller new conversations."""
        return Response({"available": teamwork.is_available(request.user)})

    @extend_schema(request=AvailabilityInput, responses=AvailabilityInput)
    def put(self, request: Request) -> Response:
        values = _checked(AvailabilityInput(data=request.data))
        status = teamwork.availability_set(request.user, available=values["available"])
        return Response({"available": status.available})


class AgentListApi(TenantAPIView):
    required_permissions = {"GET": Perm.INBOX_VIEW}

    @extend_schema(responses=AgentOutput(many=True))
    def get(self, request: Request) -> Response:
        """The workspace's members who work in the inbox, by name, and whether they are available."""
        context = {"away": selectors.away_user_ids()}
        return Response(AgentOutput(teamwork.agents(), many=True, context=context).data)
