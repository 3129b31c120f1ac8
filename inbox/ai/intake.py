"""Customers' messages handed to the AI: after the webhook batch that stored them commits, one
`ai` job per batch and number takes the newest message of each conversation (an earlier one in
the same burst is answered by answering the newest)."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists

from aerostic.core.jobs import enqueue_on_commit
from aerostic.core.queues import AI
from inbox.ai.models import AINumber, AISettings
from inbox.models import Message


def messages_arrived(phone: Any, rows: list[Message]) -> None:
    """Inside the webhook batch's transaction (the job is enqueued only if it commits). One
    small query per batch."""
    customer_rows = [row for row in rows if row.type != "system"]
    if not customer_rows:
        return
    # The flag and the provider are the job's to check: here only what costs one indexed read.
    if (
        not AINumber.objects.filter(phone_number_id=phone.pk)
        .filter(Exists(AISettings.objects.filter(enabled=True)))
        .exists()
    ):
        return
    newest: dict[int, Message] = {}
    for row in customer_rows:
        seen = newest.get(row.conversation_id)
        if seen is None or row.created_at >= seen.created_at:
            newest[row.conversation_id] = row
    from inbox.ai.jobs import answer_messages

    enqueue_on_commit(
        answer_messages,
        queue=AI,
        tenant_id=phone.tenant_id,
        items=[[conversation_id, row.wamid] for conversation_id, row in sorted(newest.items())],
    )
