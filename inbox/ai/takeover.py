"""The boundary between the AI and a person: "Take over" silences the AI in a conversation at
once (an agent's own reply takes over too); a release, or resolving the conversation, hands it
back. Each change is a timeline event with its actor.

Never both: the takeover, the AI's decision to answer (inbox.ai.autoreply) and the send path's
claim all meet on row locks. The AI decides under the conversation's row lock and skips a
paused conversation; the send path checks the pause again when it claims the reply; a takeover
cancels the replies still queued (waiting for a claim in progress), and then knows whether one
had already gone (`ai_answered_since`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from aerostic.core.errors import DomainError
from inbox.events import event_add
from inbox.models import Conversation, ConversationEvent
from whatsapp import dispatch
from whatsapp.models import OutboundMessage

AI_ORIGINS = [OutboundMessage.Origin.AI.value]
CANCELLED = "An agent took over this conversation: the AI's reply was not sent."
# An AI reply this recent, to the customer's latest message, is one the agent may not have seen.
JUST_ANSWERED = timedelta(minutes=2)


class AIJustAnswered(DomainError):
    code = "ai_just_answered"


def conversation_takeover(conversation: Conversation, *, actor: Any, reason: str = "takeover") -> bool:
    """Silences the AI in this conversation (True when it was not already). Queued AI replies
    are cancelled; one the send path already claimed goes out (it is Meta's)."""
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        taken = locked.ai_paused_at is None
        if taken:
            now = timezone.now()
            Conversation.objects.filter(pk=locked.pk).update(
                ai_paused_at=now, ai_paused_by=actor if getattr(actor, "is_authenticated", False) else None
            )
            conversation.ai_paused_at = now
            conversation.ai_paused_by_id = getattr(actor, "pk", None)
            event_add(conversation, ConversationEvent.Kind.TAKEN_OVER, actor, reason=reason)
        dispatch.automatic_replies_cancel(
            phone_id=locked.phone_number_id, recipient_index=locked.customer_index, origins=AI_ORIGINS, reason=CANCELLED
        )
    return taken


def ai_answered_since(conversation: Conversation, since: datetime | None) -> bool:
    """Whether an AI reply created since `since` (the customer's latest message) left or is leaving."""
    if since is None:
        return False
    since = max(since, timezone.now() - JUST_ANSWERED)
    return dispatch.automatic_replies_claimed(
        phone_id=conversation.phone_number_id,
        recipient_index=conversation.customer_index,
        origins=AI_ORIGINS,
        since=since,
    )


def takeover_for_reply(conversation: Conversation, *, actor: Any) -> None:
    """An agent is about to reply: the AI stops first. When the AI answered the customer's latest
    message a moment ago, the agent's reply is refused once (the conversation stays taken over),
    so the customer never gets both answers to one question; sending again goes out."""
    if not conversation_takeover(conversation, actor=actor, reason="agent_replied"):
        return
    if ai_answered_since(conversation, conversation.last_inbound_at):
        raise AIJustAnswered(
            "The AI answered the customer's last message a moment ago (see the conversation). The AI is now "
            "off here: send your reply again if it is still needed."
        )


def conversation_release(conversation: Conversation, *, actor: Any, reason: str = "released") -> bool:
    """Hands the conversation back to the AI (True when it was taken over)."""
    released = bool(
        Conversation.objects.filter(pk=conversation.pk, ai_paused_at__isnull=False).update(
            ai_paused_at=None, ai_paused_by=None
        )
    )
    if released:
        conversation.ai_paused_at = None
        conversation.ai_paused_by = None
        event_add(conversation, ConversationEvent.Kind.RELEASED, actor, reason=reason)
    return released
