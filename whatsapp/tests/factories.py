"""Factories for WhatsApp rows: accounts, numbers, templates and outbound messages, written straight
to the database (no simulator, no Graph call) for tests of rules that only need the rows.

Each row is created inside its tenant's context (TenantScopedFactory). The tenant defaults to the
current one, so inside `with tenant_context(alpha.tenant):` a bare `PhoneNumberFactory()` is alpha's;
related rows take the tenant of their parent (a number its account's, a message its number's).
Encrypted fields get plaintext (the field seals it on save) and blind indexes the value the real
code writes (`contacts.phones.customer_index`, as whatsapp.dispatch.message_enqueue does).
"""

from __future__ import annotations

import factory
from django.utils import timezone

from contacts.phones import customer_index
from tenants.tests.factories import TenantScopedFactory, current_tenant
from whatsapp.models import MessageTemplate, OutboundMessage, PhoneNumber, WhatsAppAccount

ORDER_UPDATE = [
    {"type": "BODY", "text": "Hi {{1}}, your order {{2}} is on its way.", "example": {"body_text": [["Asha", "A-1"]]}},
]


class WhatsAppAccountFactory(TenantScopedFactory):
    class Meta:
        model = WhatsAppAccount

    tenant = factory.LazyFunction(current_tenant)
    waba_id = factory.Sequence(lambda n: f"31{n:013d}")
    business_id = factory.Sequence(lambda n: f"41{n:013d}")
    name = factory.Sequence(lambda n: f"Business {n}")
    currency = "USD"
    mode = WhatsAppAccount.Mode.SANDBOX
    status = WhatsAppAccount.Status.CONNECTED
    webhooks_subscribed = True


class PhoneNumberFactory(TenantScopedFactory):
    """A connected, registered number with Meta's usual healthy values."""

    class Meta:
        model = PhoneNumber

    account = factory.SubFactory(WhatsAppAccountFactory)
    tenant = factory.SelfAttribute("account.tenant")
    phone_number_id = factory.Sequence(lambda n: f"51{n:013d}")
    display_phone_number = factory.Sequence(lambda n: f"+1 555 01{n % 100:02d} {n % 10000:04d}")
    verified_name = factory.LazyAttribute(lambda o: o.account.name)
    quality_rating = "GREEN"
    messaging_limit_tier = "TIER_1K"
    throughput_level = "STANDARD"
    name_status = "APPROVED"
    status = "CONNECTED"
    is_registered = True
    is_active = True
    last_synced_at = factory.LazyFunction(timezone.now)


class MessageTemplateFactory(TenantScopedFactory):
    """An APPROVED utility template with two body variables, as Meta's sync would store it."""

    class Meta:
        model = MessageTemplate

    account = factory.SubFactory(WhatsAppAccountFactory)
    tenant = factory.SelfAttribute("account.tenant")
    name = factory.Sequence(lambda n: f"order_update_{n}")
    language = "en_US"
    category = MessageTemplate.Category.UTILITY
    requested_category = factory.SelfAttribute("category")
    components = factory.LazyFunction(lambda: [dict(component) for component in ORDER_UPDATE])
    status = MessageTemplate.Status.APPROVED
    quality_score = "GREEN"
    meta_template_id = factory.Sequence(lambda n: f"61{n:013d}")
    status_changed_at = factory.LazyFunction(timezone.now)
    last_synced_at = factory.LazyFunction(timezone.now)


class OutboundMessageFactory(TenantScopedFactory):
    """A queued free-form API reply (the shape whatsapp.dispatch.message_enqueue stores)."""

    class Meta:
        model = OutboundMessage

    phone_number = factory.SubFactory(PhoneNumberFactory)
    tenant = factory.SelfAttribute("phone_number.tenant")
    recipient = factory.Sequence(lambda n: f"91981{n:07d}")  # digits, as Meta's wa_id
    recipient_index = factory.LazyAttribute(lambda o: customer_index(tenant=o.tenant.pk, wa_id=o.recipient))
    category = OutboundMessage.Category.SERVICE
    content = factory.LazyFunction(lambda: {"type": "text", "text": {"body": "Your order is on its way."}})
    origin = OutboundMessage.Origin.API
    state = OutboundMessage.State.QUEUED
