"""Agents' replies go through the one dispatcher: free text inside the 24-hour window, a template
at any time, a failed send sent again as a new message."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from aerostic.core.errors import DomainError
from aerostic.core.tenant_context import tenant_context
from inbox.models import Conversation, Message
from inbox.replies import WindowClosed, reply_send, retry_send
from inbox.tests.factories import ConversationFactory
from whatsapp.models import OutboundMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(alpha, phone):
    with tenant_context(alpha.tenant):
        return ConversationFactory(phone_number=phone, in_window=True)


def test_free_text_inside_the_window_is_queued_as_an_inbox_send(alpha, conversation):
    with tenant_context(alpha.tenant):
        message = reply_send(conversation, actor=alpha.agent.user, text="Hello *there*")
        assert (message.origin, message.state, message.category) == ("inbox", "queued", "SERVICE")
        assert message.content == {"type": "text", "text": {"body": "Hello *there*", "preview_url": True}}
        assert message.recipient.reveal() == conversation.customer_wa_id.reveal()
        assert message.created_by == alpha.agent.user
        assert Conversation.objects.get(pk=conversation.pk).assignee == alpha.agent.user


def test_outside_the_window_only_a_template_goes(alpha, conversation, template):
    with tenant_context(alpha.tenant):
        Conversation.objects.filter(pk=conversation.pk).update(window_expires_at=timezone.now() - timedelta(minutes=1))
        conversation.refresh_from_db()
        with pytest.raises(WindowClosed, match="only an approved template"):
            reply_send(conversation, actor=alpha.agent.user, text="Are you there?")
        with pytest.raises(DomainError):
            reply_send(conversation, actor=alpha.agent.user, template_id=template.pk, values={})
        message = reply_send(
            conversation, actor=alpha.agent.user, template_id=template.pk, values={"body": {"1": "Ana", "2": "A-17"}}
        )
        assert message.content["type"] == "template" and message.template == template
        assert OutboundMessage.objects.count() == 1


def test_empty_or_too_long_text_is_refused(alpha, conversation):
    with tenant_context(alpha.tenant):
        for text in ("  ", "x" * 4097):
            with pytest.raises(DomainError):
                reply_send(conversation, actor=alpha.agent.user, text=text)
        assert not OutboundMessage.objects.exists()


def test_a_failed_send_is_sent_again_as_a_new_message(alpha, conversation):
    with tenant_context(alpha.tenant):
        first = reply_send(conversation, actor=alpha.agent.user, text="Try me")
        with pytest.raises(DomainError, match="Only a failed message"):
            retry_send(conversation, actor=alpha.agent.user, outbound_id=first.pk)
        OutboundMessage.objects.filter(pk=first.pk).update(state="failed", error_code=131000)
        again = retry_send(conversation, actor=alpha.agent.user, outbound_id=first.pk)
        assert again.pk != first.pk and again.content == first.content and again.state == "queued"


def test_a_message_meta_failed_is_sent_again(alpha, conversation):
    with tenant_context(alpha.tenant):
        stored = Message.objects.create(
            id=987654,
            conversation=conversation,
            direction="out",
            type="text",
            wamid="wamid.failed.1",
            body="Your order shipped",
            payload={"type": "text", "text": {"body": "Your order shipped"}, "id": "wamid.failed.1"},
            status="failed",
            created_at=timezone.now(),
        )
        again = retry_send(conversation, actor=alpha.agent.user, message_id=stored.pk)
        assert again.content == {"type": "text", "text": {"body": "Your order shipped"}}


def test_a_customer_behind_a_username_cannot_be_written_first(alpha, phone):
    with tenant_context(alpha.tenant):
        hidden = ConversationFactory(phone_number=phone, in_window=True, customer_wa_id="", customer_user_id="US.1")
        with pytest.raises(DomainError, match="username"):
            reply_send(hidden, actor=alpha.agent.user, text="Hi")
