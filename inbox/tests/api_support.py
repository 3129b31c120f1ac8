"""Helpers of the inbox API tests: a workspace's number, customers writing in through the real
message store (inbox.inbound: conversation, contact, unread count and 24-hour window as a webhook
leaves them), and conversations written straight to the database for the list's shapes."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from aerostic.core.tenant_context import tenant_context
from inbox.inbound import inbound_store
from inbox.models import Conversation
from inbox.tests.factories import ConversationFactory
from whatsapp.models import PhoneNumber
from whatsapp.tests.factories import PhoneNumberFactory

CUSTOMER = "919812345621"  # +91 98123 45621
_wamids = itertools.count(1)


def number_of(workspace: Any) -> PhoneNumber:
    with tenant_context(workspace.tenant):
        return PhoneNumberFactory()


def customer_writes(
    phone: PhoneNumber,
    *,
    wa_id: str = CUSTOMER,
    text: str = "Hi, where is my order?",
    name: str = "Asha Rao",
    ago: timedelta = timedelta(minutes=1),
    kind: str = "text",
    content: dict | None = None,
) -> Conversation:
    """A customer's message stored as the webhook stores it; their conversation as it is after."""
    at = timezone.now() - ago
    message = {"from": wa_id, "id": f"wamid.test.{next(_wamids)}", "timestamp": str(int(at.timestamp())), "type": kind}
    message[kind] = content if content is not None else {"body": text}
    with tenant_context(phone.tenant_id):
        stored = inbound_store(phone=phone, message=message, profile_name=name)
        assert stored is not None
        return Conversation.objects.select_related("contact").get(pk=stored.conversation_id)


def quiet_conversation(phone: PhoneNumber, *, at: datetime, **fields: Any) -> Conversation:
    """A conversation whose last message was at `at` (no message rows: for the list's order)."""
    with tenant_context(phone.tenant_id):
        return ConversationFactory(phone_number=phone, last_message_at=at, **fields)
