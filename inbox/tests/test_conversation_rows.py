"""The 24-hour window rule and the conversation lookup the send rules make, on conversations the
factory writes straight to the database (no simulator, no webhook)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from aerostic.core.tenant_context import tenant_context
from compliance.policy import WINDOW_CLOSED, free_form_allowed, window_open
from inbox.conversations import conversation_for, conversations_of
from inbox.models import Conversation
from inbox.tests.factories import ConversationFactory
from whatsapp.tests.factories import OutboundMessageFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db


def test_free_form_is_allowed_only_inside_the_window(alpha):
    now = timezone.now()
    with tenant_context(alpha.tenant):
        phone = PhoneNumberFactory()
        open_one = ConversationFactory(phone_number=phone, in_window=True)
        never_wrote = ConversationFactory(phone_number=phone)
        long_ago = ConversationFactory(phone_number=phone, last_inbound_at=now - timedelta(hours=25))
    assert window_open(open_one, now) and free_form_allowed(open_one, now).allowed
    assert not window_open(open_one, now + timedelta(hours=24))
    for closed in (never_wrote, long_ago):
        decision = free_form_allowed(closed, now)
        assert (decision.allowed, decision.reason) == (False, WINDOW_CLOSED)


def test_the_send_rules_find_a_factory_conversation_by_the_recipient_index(alpha):
    with tenant_context(alpha.tenant):
        conversation = ConversationFactory(customer_wa_id="919812345621", in_window=True)
        phone = conversation.phone_number
        message = OutboundMessageFactory(phone_number=phone, recipient="919812345621")
        assert message.recipient_index == conversation.customer_index
        assert conversations_of(phone=phone, indexes={message.recipient_index}) == {
            conversation.customer_index: conversation
        }
        # the real writer finds the same row rather than making a second one
        assert conversation_for(phone=phone, customer_wa_id="919812345621") == conversation
        assert Conversation.objects.count() == 1


def test_a_conversation_belongs_to_its_workspace_and_is_one_per_customer_and_number(alpha, bravo):
    with tenant_context(alpha.tenant):
        conversation = ConversationFactory()
        with pytest.raises(IntegrityError), transaction.atomic():
            ConversationFactory(
                phone_number=conversation.phone_number, customer_wa_id=conversation.customer_wa_id.reveal()
            )
        assert conversation.customer_wa_id.reveal().isdigit()
    with tenant_context(bravo.tenant):
        assert not Conversation.objects.exists()
