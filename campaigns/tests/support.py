"""Helpers for campaign tests: an approved template with variables, an audience, a draft, a run."""

from __future__ import annotations

from typing import Any

from aerostic.core.tenant_context import tenant_context
from campaigns import engine, services
from campaigns.models import Campaign, CampaignMessage
from compliance.consent import consent_record
from compliance.models import ConsentEvent
from contacts.models import Contact, ContactList, ContactListMember
from contacts.tests.factories import phone_numbers
from whatsapp.models import MessageTemplate, PhoneNumber

ORDER_UPDATE = [
    {"type": "BODY", "text": "Hi {{1}}, your order {{2}} is on its way.", "example": {"body_text": [["Asha", "A-1"]]}},
]


def sandbox_phone(member: Any, account: Any) -> PhoneNumber:
    with tenant_context(member.tenant):
        return PhoneNumber.objects.select_related("account").get(account=account)


def approved_template(
    simulator: Any,
    member: Any,
    account: Any,
    *,
    name: str = "order_update",
    category: str = "UTILITY",
    components: list[dict] | None = None,
) -> MessageTemplate:
    """Adds an APPROVED template to the simulator's WABA and pulls it in with the real sync."""
    from whatsapp.message_templates.services import templates_sync

    simulator.state.add_template(
        account.waba_id,
        name=name,
        language="en_US",
        category=category,
        components=components or ORDER_UPDATE,
        status="APPROVED",
    )
    with tenant_context(member.tenant):
        templates_sync(account=account)
        return MessageTemplate.objects.get(account=account, name=name, language="en_US")


def audience(member: Any, count: int, *, opted_in: bool = True, seed: int = 7, name: str = "Audience") -> ContactList:
    """A list of `count` contacts (India mobiles), named, with an order attribute; opted in or not."""
    with tenant_context(member.tenant):
        contact_list = ContactList.objects.create(tenant_id=member.tenant.pk, name=name)
        numbers = [number for number in phone_numbers(count * 8, seed=seed) if number.startswith("+91")][:count]
        for position, number in enumerate(numbers):
            contact = services_contact(member, number, name=f"Person {position}", order=f"A-{position}")
            ContactListMember.objects.create(tenant_id=member.tenant.pk, contact_list=contact_list, contact=contact)
            if opted_in:
                consent_record(
                    contact=contact, kind=ConsentEvent.Kind.OPT_IN, source=ConsentEvent.Source.IMPORT, evidence="test"
                )
        return contact_list


def services_contact(member: Any, number: str, *, name: str, order: str) -> Contact:
    from contacts.models import AttributeDefinition
    from contacts.services import contact_create

    AttributeDefinition.objects.get_or_create(
        tenant_id=member.tenant.pk, key="order", defaults={"label": "Order", "kind": AttributeDefinition.Kind.TEXT}
    )
    return contact_create(phone=number, actor=member.admin.user, name=name, attributes={"order": order})


MAPPING = {
    "body": {
        "1": {"source": "field", "value": "first_name", "fallback": "there"},
        "2": {"source": "attribute", "value": "order"},
    }
}


def draft(
    member: Any, phone: PhoneNumber, template: MessageTemplate, contact_list: ContactList, **extra: Any
) -> Campaign:
    with tenant_context(member.tenant):
        return services.campaign_create(
            name=extra.pop("name", "Spring sale"),
            phone_number_id=phone.pk,
            variants=extra.pop("variants", None)
            or [{"template_id": template.pk, "percentage": 100, "mapping": extra.pop("mapping", MAPPING)}],
            list_ids=[contact_list.pk],
            actor=member.admin.user,
            **extra,
        )


def launch(member: Any, campaign: Campaign) -> Campaign:
    with tenant_context(member.tenant):
        return services.campaign_launch(campaign=campaign, actor=member.admin.user)


def run_batches(member: Any, campaign: Campaign) -> list[dict]:
    """Every batch with queued recipients, in this process (as the workers would)."""
    with tenant_context(member.tenant):
        return [engine.send_batch(campaign.pk, batch) for batch in engine.batches_of(campaign)]


def states(member: Any, campaign: Campaign) -> dict[str, int]:
    with tenant_context(member.tenant):
        rows = CampaignMessage.objects.filter(campaign=campaign).values_list("state", flat=True)
        counts: dict[str, int] = {}
        for state in rows:
            counts[state] = counts.get(state, 0) + 1
        return counts


def refresh(member: Any, campaign: Campaign) -> Campaign:
    with tenant_context(member.tenant):
        return Campaign.objects.get(pk=campaign.pk)
