"""What the inbox portal tests share: alpha's number (rows written straight to the database, no
simulator), customers' messages stored through the real inbound path with Meta-shaped payloads,
our replies through the real outbound store, and a few readers of the rendered HTML."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from aerostic.core.tenant_context import tenant_context
from contacts.phones import customer_index
from inbox.inbound import inbound_store_many
from inbox.models import Conversation, Message
from inbox.outbound import outbound_store
from whatsapp.fanout import InboundItem
from whatsapp.tests.factories import MessageTemplateFactory, PhoneNumberFactory

ASHA = "919812345601"


@pytest.fixture
def number(alpha):
    """Alpha's number (its WhatsApp account with an approved two-variable template)."""
    with tenant_context(alpha.tenant):
        return PhoneNumberFactory(account__tenant=alpha.tenant)


@pytest.fixture
def approved(alpha, number):
    with tenant_context(alpha.tenant):
        return MessageTemplateFactory(account=number.account, name="order_update")


def unix(at: datetime) -> str:
    return str(int(at.timestamp()))


def inbound(sender: str, wamid: str, *, type: str = "text", at: datetime | None = None, **parts: Any) -> dict:  # noqa: A002
    """A customer's message object as Meta's webhook carries it (text unless told)."""
    message: dict[str, Any] = {"from": sender, "id": wamid, "timestamp": unix(at or timezone.now()), "type": type}
    if type == "text" and "text" not in parts:
        parts["text"] = {"body": "Hello"}
    message.update(parts)
    return message


def receive(tenant, phone, *messages: dict, name: str = "Asha Rao") -> list[Message | None]:
    with tenant_context(tenant):
        return inbound_store_many(phone=phone, items=[InboundItem(message, name) for message in messages])


def conversation_of(tenant, phone, wa_id: str = ASHA) -> Conversation:
    with tenant_context(tenant):
        return Conversation.objects.get(
            phone_number=phone, customer_index=customer_index(tenant=tenant.pk, wa_id=wa_id)
        )


def sent(tenant, phone, wamid: str, content: dict, *, to: str = ASHA, status: str = "sent", **fields: Any) -> Message:
    """A message we sent that Meta took (stored as the dispatcher's sent hook stores it)."""
    with tenant_context(tenant):
        message = outbound_store(phone=phone, to=to, wamid=wamid, content=content)
        assert message is not None
        updates = {"status": status, **fields}
        Message.objects.filter(pk=message.pk, created_at=message.created_at).update(**updates)
        for key, value in updates.items():
            setattr(message, key, value)
        return message


def window(tenant, conversation: Conversation, *, open: bool) -> None:  # noqa: A002
    with tenant_context(tenant):
        expires = timezone.now() + timedelta(hours=5) if open else datetime(2020, 1, 1, tzinfo=UTC)
        Conversation.objects.filter(pk=conversation.pk).update(window_expires_at=expires)


def text_of(html: str) -> str:
    """The page's visible text, roughly (tags dropped, spaces collapsed)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def element(html: str, element_id: str) -> str:
    """The opening tag of the element with this id ("" when absent)."""
    found = re.search(rf'<[a-z]+[^>]*\bid="{re.escape(element_id)}"[^>]*>', html)
    return found.group(0) if found else ""
