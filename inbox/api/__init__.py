"""The inbox's REST API (/api/v1/conversations/… and /api/v1/inbox/…), one view per use case;
routes in aerostic/api_urls.py."""

from inbox.api.actions import (
    ConversationAssignApi,
    ConversationLabelsApi,
    ConversationNotesApi,
    ConversationReadApi,
    ConversationReleaseApi,
    ConversationStatusApi,
    ConversationTakeoverApi,
    ConversationTeamApi,
)
from inbox.api.conversations import (
    ConversationDetailApi,
    ConversationListApi,
    ConversationMessagesApi,
    ConversationRetryApi,
    UnreadCountsApi,
)
from inbox.api.workspace import (
    AgentListApi,
    AvailabilityApi,
    LabelDetailApi,
    LabelListApi,
    QuickReplyDetailApi,
    QuickReplyListApi,
    TeamDetailApi,
    TeamListApi,
)

__all__ = [
    "AgentListApi",
    "AvailabilityApi",
    "ConversationAssignApi",
    "ConversationDetailApi",
    "ConversationLabelsApi",
    "ConversationListApi",
    "ConversationMessagesApi",
    "ConversationNotesApi",
    "ConversationReadApi",
    "ConversationRetryApi",
    "ConversationReleaseApi",
    "ConversationStatusApi",
    "ConversationTakeoverApi",
    "ConversationTeamApi",
    "LabelDetailApi",
    "LabelListApi",
    "QuickReplyDetailApi",
    "QuickReplyListApi",
    "TeamDetailApi",
    "TeamListApi",
    "UnreadCountsApi",
]
