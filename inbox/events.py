"""A conversation's timeline events (`ConversationEvent`): what people, the AI and the inbox itself
did to it, each with its actor when a person did it, and a change notice for open pages."""

from __future__ import annotations

from typing import Any

from inbox import changes
from inbox.models import Conversation, ConversationEvent


def event_add(conversation: Conversation, kind: str, actor: Any, *, body: str = "", **data: Any) -> ConversationEvent:
    event = ConversationEvent.objects.create(
        tenant_id=conversation.tenant_id,
        conversation=conversation,
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        body=body,
        data=data,
    )
    changes.conversations_changed(conversation.tenant_id, [conversation.pk])
    return event
