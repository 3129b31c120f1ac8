"""Factories for the message store: a conversation written straight to the database (no simulator,
no webhook), keyed the way inbox.conversations.conversation_for keys it."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from contacts.phones import customer_index
from inbox.models import Conversation
from tenants.tests.factories import TenantScopedFactory
from whatsapp.tests.factories import PhoneNumberFactory


class ConversationFactory(TenantScopedFactory):
    """A customer's conversation with a number (the number's tenant), the customer never having
    written yet; `ConversationFactory(in_window=True)` had a message a minute ago (24-hour window open)."""

    class Meta:
        model = Conversation

    class Params:
        in_window = factory.Trait(
            last_inbound_at=factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=1)),
            last_message_at=factory.SelfAttribute("last_inbound_at"),
            window_expires_at=factory.LazyAttribute(lambda o: o.last_inbound_at + timedelta(hours=24)),
        )

    phone_number = factory.SubFactory(PhoneNumberFactory)
    tenant = factory.SelfAttribute("phone_number.tenant")
    customer_wa_id = factory.Sequence(lambda n: f"91982{n:07d}")  # digits, as Meta's wa_id
    customer_index = factory.LazyAttribute(lambda o: customer_index(tenant=o.tenant.pk, wa_id=o.customer_wa_id))
    customer_name = factory.Faker("name")
    status = Conversation.Status.OPEN
