"""The workspace bench.campaigns sends from (sandbox-connected, with an approved two-variable
template), its audiences, and its campaigns through the real services."""

from __future__ import annotations

import time

import requests

TEMPLATE = {
    "name": "order_shipped",
    "components": [
        {"type": "BODY", "text": "Hi {{1}}, order {{2}} is on its way.", "example": {"body_text": [["Asha", "A-1"]]}}
    ],
}
MAPPING = {
    "body": {
        "1": {"source": "field", "value": "first_name", "fallback": "there"},
        "2": {"source": "attribute", "value": "order"},
    }
}


def prepare(sim_url: str):
    """One workspace, sandbox-connected through the real service, limits lifted except the bucket,
    and an approved two-variable template (submitted through the service, approved by the simulator)."""
    from accounts.models import User
    from aerostic.core.tenant_context import tenant_context
    from contacts.models import AttributeDefinition
    from tenants.models import Tenant
    from whatsapp.connections.connect import sandbox_connect
    from whatsapp.message_templates.services import template_draft_save, template_submit, templates_sync
    from whatsapp.models import MessageTemplate, PhoneNumber

    tenant, _ = Tenant.objects.get_or_create(slug="bench", defaults={"name": "Bench", "default_country": "IN"})
    Tenant.objects.filter(pk=tenant.pk).update(messages_per_minute=100_000_000, campaign_sends_per_day=100_000_000)
    tenant.refresh_from_db()
    user = User.objects.filter(email="bench@example.test").first() or User.objects.create_user("bench@example.test")
    account = sandbox_connect(tenant=tenant, actor=user)
    draft, _problems = template_draft_save(
        account=account,
        name=TEMPLATE["name"],
        language="en_US",
        category="UTILITY",
        components=TEMPLATE["components"],
        actor=user,
    )
    with tenant_context(tenant):
        template = template_submit(template=draft, actor=user)
        requests.post(
            f"{sim_url}/_sim/templates/{template.meta_template_id}/status", json={"status": "APPROVED"}, timeout=10
        )
        templates_sync(account=account)
        template = MessageTemplate.objects.get(pk=template.pk)
        assert template.status == "APPROVED", template.status
        AttributeDefinition.objects.get_or_create(
            tenant_id=tenant.pk, key="order", defaults={"label": "Order", "kind": AttributeDefinition.Kind.TEXT}
        )
        phone = PhoneNumber.objects.select_related("account").get(account=account)
    return tenant, user, phone, template


def make_audience(tenant, name: str, first: int, count: int):
    """`count` contacts with new Indian mobile numbers (+91 9…), in a new list, written in bulk."""
    from aerostic.core.tenant_context import tenant_context
    from contacts import phones
    from contacts.importing.writing import add_to_list
    from contacts.models import ContactList
    from contacts.rows import ImportRow, insert_contacts

    with tenant_context(tenant):
        contact_list = ContactList.objects.create(tenant_id=tenant.pk, name=name)
        for start in range(0, count, 5000):
            rows = []
            for offset in range(start, min(count, start + 5000)):
                number = phones.normalize(f"+91 9{first + offset:09d}")
                rows.append(
                    ImportRow.of(
                        number,
                        tenant_id=tenant.pk,
                        number=offset,
                        name=f"Person {offset}",
                        attributes={"order": f"A-{offset}"},
                    )
                )
            created = insert_contacts(rows)
            add_to_list(contact_list.pk, list(created.values()))
    return contact_list


def configure(tenant, phone, cap: int | None) -> None:
    from aerostic.core.tenant_context import tenant_context
    from whatsapp.models import PhoneNumber

    with tenant_context(tenant):
        PhoneNumber.objects.filter(pk=phone.pk).update(
            throughput_level="HIGH", messaging_limit_tier="TIER_UNLIMITED", send_rate_limit=cap
        )


def campaign_draft(tenant, user, phone, template, contact_list, name: str):
    from aerostic.core.tenant_context import tenant_context
    from campaigns.services import campaign_create

    with tenant_context(tenant):
        return campaign_create(
            name=name,
            phone_number_id=phone.pk,
            variants=[{"template_id": template.pk, "percentage": 100, "mapping": MAPPING}],
            list_ids=[contact_list.pk],
            actor=user,
        )


def launch(tenant, user, campaign) -> float:
    from aerostic.core.tenant_context import tenant_context
    from campaigns.services import campaign_launch

    started = time.perf_counter()
    with tenant_context(tenant):
        campaign_launch(campaign=campaign, actor=user)
    return time.perf_counter() - started


def campaign_status(tenant, campaign) -> str:
    from aerostic.core.tenant_context import tenant_context
    from campaigns.models import Campaign

    with tenant_context(tenant):
        return Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True).get()


def recipient_rows(tenant, campaign) -> list[tuple]:
    from aerostic.core.tenant_context import tenant_context
    from campaigns.models import CampaignMessage

    with tenant_context(tenant):
        rows = CampaignMessage.objects.filter(campaign=campaign).values_list(
            "contact__phone", "state", "claimed_at", "sent_at"
        )
        return [
            (phone.reveal().lstrip("+") if phone else "", state, claimed, sent) for phone, state, claimed, sent in rows
        ]
