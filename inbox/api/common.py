"""What the inbox API views share: the conversation named in the URL, looked up through the acting
member (another workspace's, or one the member may not see, is the same 404), and its detail."""

from __future__ import annotations

from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from inbox import selectors
from inbox.models import Conversation
from inbox.serializers import ConversationDetailOutput
from tenants.api_base import TenantRequest


def conversation_for(request: TenantRequest, conversation_id: int) -> Conversation:
    try:
        return selectors.conversation_get(selectors.Agent.of(request.membership), conversation_id)
    except Conversation.DoesNotExist:
        raise NotFound("There is no such conversation, or it is not one you may see.") from None


def detail_response(conversation: Conversation, *, status: int = 200) -> Response:
    """The conversation as it is now (read from the primary: the caller may just have changed it)."""
    context = {
        "labels": selectors.labels_of([conversation.pk], using_replica=False),
        "previews": selectors.last_messages([conversation], using_replica=False),
    }
    return Response(ConversationDetailOutput(conversation, context=context).data, status=status)
