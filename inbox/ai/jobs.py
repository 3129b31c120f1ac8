"""The `ai` queue's entry point (thin: inbox.ai.autoreply decides)."""

from __future__ import annotations

import logging

from aerostic.core.jobs import tenant_job

logger = logging.getLogger(__name__)


@tenant_job(atomic=False)  # the provider is asked outside any transaction
def answer_messages(*, tenant_id: int, items: list[tuple[int, str]]) -> dict[str, int]:
    """items: [conversation_id, wamid] of customers' newest messages. Counts by outcome."""
    from inbox.ai.autoreply import message_answer
    from inbox.models import Conversation, Message

    counts: dict[str, int] = {}
    for conversation_id, wamid in items:  # lists once through Redis
        conversation = (
            Conversation.objects.select_related("contact", "tenant", "phone_number").filter(pk=conversation_id).first()
        )
        message = Message.objects.filter(conversation_id=conversation_id, wamid=str(wamid)).first()
        if conversation is None or message is None:
            counts["gone"] = counts.get("gone", 0) + 1
            continue
        decision = message_answer(conversation, message)
        outcome = decision.outcome if decision is not None else "already_decided"
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
