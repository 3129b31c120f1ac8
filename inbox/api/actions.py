"""/api/v1/conversations/<id>/…: what agents do to a conversation — assign, move to a team (with
round-robin), change its state, label it, write a private note, mark it read. Each change is a
`ConversationEvent` with its actor (inbox.teamwork); the answer is the conversation as it is now
(a note answers the note)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from accounts.roles import Perm, role_has_perm
from inbox import teamwork
from inbox.ai.takeover import conversation_release, conversation_takeover
from inbox.api.common import conversation_for, detail_response
from inbox.serializers import (
    AssignInput,
    ConversationDetailOutput,
    EventOutput,
    LabelsInput,
    NoteInput,
    StatusInput,
    TeamAssignInput,
)
from tenants.api_base import TenantAPIView, TenantRequest


class ConversationAssignApi(TenantAPIView):
    # Anyone who may reply may take an unassigned conversation; assigning others needs INBOX_ASSIGN.
    required_permissions = {"POST": Perm.INBOX_REPLY}

    @extend_schema(request=AssignInput, responses=ConversationDetailOutput)
    def post(self, request: TenantRequest, conversation_id: int) -> Response:
        """Assigns to a member who may reply (`null` unassigns)."""
        conversation = conversation_for(request, conversation_id)
        data = AssignInput(data=request.data)
        data.is_valid(raise_exception=True)
        assignee_id = data.validated_data["assignee_id"]
        taking = assignee_id == request.user.pk and conversation.assignee_id in (None, request.user.pk)
        if not taking and not role_has_perm(request.membership.role, Perm.INBOX_ASSIGN):
            raise PermissionDenied("Your role lets you take unassigned conversations, not assign them to others.")
        teamwork.conversation_assign(conversation, assignee_id=assignee_id, actor=request.user)
        return detail_response(conversation)


class ConversationTeamApi(TenantAPIView):
    required_permissions = {"POST": Perm.INBOX_ASSIGN}

    @extend_schema(request=TeamAssignInput, responses=ConversationDetailOutput)
    def post(self, request: TenantRequest, conversation_id: int) -> Response:
        """Moves the conversation to a team (`null`: none); `round_robin` also assigns it to the
        team's next available agent (it stays unassigned when nobody is available)."""
        conversation = conversation_for(request, conversation_id)
        data = TeamAssignInput(data=request.data)
        data.is_valid(raise_exception=True)
        teamwork.conversation_team(
            conversation,
            team_id=data.validated_data["team_id"],
            round_robin=data.validated_data["round_robin"],
            actor=request.user,
        )
        return detail_response(conversation)


class ConversationStatusApi(TenantAPIView):
    required_permissions = {"POST": Perm.INBOX_REPLY}

    @extend_schema(request=StatusInput, responses=ConversationDetailOutput)
    def post(self, request: TenantRequest, conversation_id: int) -> Response:
        """Resolve, reopen (`open`), mark pending, or snooze until `snoozed_until` (in the future;
        the customer's next message wakes it earlier)."""
        conversation = conversation_for(request, conversation_id)
        data = StatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        teamwork.conversation_status(
            conversation,
            status=data.validated_data["status"],
            snoozed_until=data.validated_data.get("snoozed_until"),
            actor=request.user,
        )
        return detail_response(conversation)


class ConversationLabelsApi(TenantAPIView):
    required_permissions = {"POST": Perm.INBOX_REPLY}

    @extend_schema(request=LabelsInput, responses=ConversationDetailOutput)
    def post(self, request: TenantRequest, conversation_id: int) -> Response:
        """Adds and removes labels by id, all or none (an unknown label changes nothing: 400)."""
        conversation = conversation_for(request, conversation_id)
        data = LabelsInput(data=request.data)
        data.is_valid(raise_exception=True)
        for label_id in data.validated_data["add"]:
            teamwork.conversation_label(conversation, label_id=label_id, actor=request.user, add=True)
        for label_id in data.validated_data["remove"]:
            teamwork.conversation_label(conversation, label_id=label_id, actor=request.user, add=False)
        return detail_response(conversation)


class ConversationNotesApi(TenantAPIView):
    required_permissions = {"POST": Perm.INBOX_REPLY}

    @extend_schema(request=NoteInput, responses={201: EventOutput})
    def post(self, request: TenantRequest, conversation_id: int) -> Response:
        """A private note (never sent to the customer); teammates named as @name are notified
        (`data.mentions`)."""
        conversation = conversation_for(request, conversation_id)
        data = NoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        event = teamwork.note_add(conversation, body=data.validated_data["body"], actor=request.user)
        return Response(EventOutput(event).data, status=201)


class ConversationReadApi(TenantAPIView):
    required_permissions = {"POST": Perm.INBOX_REPLY}

    @extend_schema(request=None, responses={204: None})
    def post(self, request: TenantRequest, conversation_id: int) -> Response:
        """The caller read the conversation: unread back to zero, their mentions in it seen, and
        the customer's messages marked read at Meta when the workspace sends read receipts."""
        teamwork.conversation_opened(conversation_for(request, conversation_id), user=request.user)
        return Response(status=204)


class ConversationTakeoverApi(TenantAPIView):
    required_permissions = {"POST": Perm.INBOX_TAKEOVER}

    @extend_schema(request=None, responses=ConversationDetailOutput)
    def post(self, request: TenantRequest, conversation_id: int) -> Response:
        """Takes the conversation over from the AI: it stays silent here until released or
        resolved. An AI reply still queued is cancelled; one already sent stays sent."""
        conversation = conversation_for(request, conversation_id)
        conversation_takeover(conversation, actor=request.user)
        return detail_response(conversation)


class ConversationReleaseApi(TenantAPIView):
    required_permissions = {"POST": Perm.INBOX_TAKEOVER}

    @extend_schema(request=None, responses=ConversationDetailOutput)
    def post(self, request: TenantRequest, conversation_id: int) -> Response:
        """Hands the conversation back to the AI: it answers the customer's next message."""
        conversation = conversation_for(request, conversation_id)
        conversation_release(conversation, actor=request.user)
        return detail_response(conversation)
