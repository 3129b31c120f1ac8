"""/api/v1/conversations/…: the list (views, states, filters, search, keyset pages), the unread
counts, one conversation, its timeline, replies and retries. Replies are queued through the one
dispatcher (origin `inbox`) and answered 202; free text outside the customer's 24-hour window is a
400 with code `window_closed`. An `Idempotency-Key` header makes a retried reply return the first."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts.roles import Perm
from inbox import badges, selectors
from inbox.ai.takeover import AIJustAnswered
from inbox.api.common import conversation_for, detail_response
from inbox.models import Message
from inbox.replies import reply_send, retry_send
from inbox.serializers import (
    MEDIA_TYPES,
    ConversationDetailOutput,
    ConversationListQuery,
    ConversationOutput,
    ConversationPageOutput,
    ReplyInput,
    RetryInput,
    TimelineEntryOutput,
    TimelineOutput,
    TimelineQuery,
    UnreadCountsOutput,
    iso,
)
from tenants.api_base import TenantAPIView, TenantRequest
from whatsapp.messages_api import MessageOutput
from whatsapp.models import OutboundMessage

REFUSED = OpenApiResponse(
    description="Not sent: `code` says why (`window_closed`: free text after the customer's 24-hour window; "
    "send an approved template instead) and `detail` in words."
)


class ConversationListApi(TenantAPIView):
    required_permissions = {"GET": Perm.INBOX_VIEW}

    @extend_schema(
        operation_id="conversations_list", parameters=[ConversationListQuery], responses=ConversationPageOutput
    )
    def get(self, request: TenantRequest) -> Response:
        """Newest activity first. Agents who may not see every conversation see theirs, their
        teams' and the unassigned ones. `q` finds a full number (exactly) or words of customers'
        names and messages."""
        query = ConversationListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        filters = selectors.ListFilters(
            view=values["view"],
            state=values["state"],
            phone_id=values.get("phone_number_id"),
            label_id=values.get("label_id"),
            team_id=values.get("team_id"),
            unread=values["unread"],
            window_open=values["window_open"],
            query=values["q"],
        )
        page = selectors.conversation_page(
            selectors.Agent.of(request.membership), filters, cursor=values["cursor"], limit=values["limit"]
        )
        context = {"labels": page.labels, "previews": page.previews}
        results = ConversationOutput(page.conversations, many=True, context=context).data
        return Response({"results": results, "next_cursor": page.next_cursor})


class UnreadCountsApi(TenantAPIView):
    required_permissions = {"GET": Perm.INBOX_VIEW}

    @extend_schema(responses=UnreadCountsOutput)
    def get(self, request: TenantRequest) -> Response:
        """Conversations with unread customer messages (not resolved), per view."""
        return Response(UnreadCountsOutput(badges.unread_counts(selectors.Agent.of(request.membership))).data)


class ConversationDetailApi(TenantAPIView):
    required_permissions = {"GET": Perm.INBOX_VIEW}

    @extend_schema(responses=ConversationDetailOutput)
    def get(self, request: TenantRequest, conversation_id: int) -> Response:
        return detail_response(conversation_for(request, conversation_id))


class ConversationMessagesApi(TenantAPIView):
    required_permissions = {"GET": Perm.INBOX_VIEW, "POST": Perm.INBOX_REPLY}

    @extend_schema(parameters=[TimelineQuery], responses=TimelineOutput)
    def get(self, request: TenantRequest, conversation_id: int) -> Response:
        """Messages, sends on their way and activity (notes, assignments…), oldest first; pass
        `next_before` as `before` for the page before."""
        conversation = conversation_for(request, conversation_id)
        query = TimelineQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit = query.validated_data["limit"]
        entries = selectors.timeline(conversation, before=query.validated_data.get("before"), limit=limit)
        messages: list[Message] = [entry.item for entry in entries if entry.kind == "message"]
        media_ids = {
            str(((message.payload or {}).get(message.type) or {}).get("id", ""))
            for message in messages
            if message.type in MEDIA_TYPES
        } - {""}
        context = {"quoted": selectors.quoted_messages(entries), "media_types": selectors.media_types(media_ids)}
        oldest = min((message.created_at for message in messages), default=None)
        return Response(
            {
                "results": TimelineEntryOutput(entries, many=True, context=context).data,
                "next_before": iso(oldest) if oldest is not None and len(messages) == limit else None,
            }
        )

    @extend_schema(
        request=ReplyInput,
        responses={202: MessageOutput, 400: REFUSED},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
    )
    def post(self, request: TenantRequest, conversation_id: int) -> Response:
        """Free `text` while the customer's 24-hour window is open, or an approved template
        (`template_id` + `values`) at any time. Queued: the answer is the send, 202."""
        conversation = conversation_for(request, conversation_id)
        data = ReplyInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        key = request.headers.get("Idempotency-Key", "").strip()
        try:
            message = reply_send(
                conversation,
                actor=request.user,
                text=values.get("text", ""),
                template_id=values.get("template_id"),
                values=values["values"],
                # The key is the client's for this conversation's replies: the same key sent to another
                # conversation (or to /messages) is another message.
                idempotency_key=f"inbox:{conversation.pk}:{key}"[:128] if key else "",
            )
        except AIJustAnswered as refused:
            # Answered, not raised: the takeover it made stays (a raised refusal rolls the request back).
            return Response({"detail": refused.message, "code": refused.code}, status=409)
        answer = MessageOutput(message).data
        return Response(answer, status=202, headers={"Location": answer["status_url"]})


class ConversationRetryApi(TenantAPIView):
    required_permissions = {"POST": Perm.INBOX_REPLY}

    @extend_schema(request=RetryInput, responses={202: MessageOutput, 400: REFUSED})
    def post(self, request: TenantRequest, conversation_id: int) -> Response:
        """Sends a failed reply again as a new message (the failed one stays in the timeline)."""
        conversation = conversation_for(request, conversation_id)
        data = RetryInput(data=request.data)
        data.is_valid(raise_exception=True)
        outbound_id, message_id = data.validated_data.get("outbound_id"), data.validated_data.get("message_id")
        try:
            if outbound_id is not None:
                selectors.send_get(conversation, outbound_id)
            else:
                selectors.message_get(conversation, message_id)
        except (OutboundMessage.DoesNotExist, Message.DoesNotExist):
            raise NotFound("This conversation has no such message.") from None
        message = retry_send(conversation, actor=request.user, outbound_id=outbound_id, message_id=message_id)
        answer = MessageOutput(message).data
        return Response(answer, status=202, headers={"Location": answer["status_url"]})
