"""What the side-panel and settings tests share: a workspace's conversation with a known contact,
a second agent, and htmx posts."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from django.utils import timezone

from accounts.roles import Role
from accounts.tests.factories import UserFactory
from aerostic.core.tenant_context import tenant_context
from compliance.consent import consent_record
from contacts.models import AttributeDefinition
from contacts.services import list_create, list_members_add
from contacts.tests.factories import ContactFactory
from inbox.tests.factories import ConversationFactory
from tenants.tests.factories import MembershipFactory
from whatsapp.tests.factories import PhoneNumberFactory


def htmx_post(client, url: str, data: dict | None = None):
    return client.post(url, data or {}, HTTP_HX_REQUEST="true")


def second_agent(workspace, name: str = "bea"):
    return MembershipFactory(
        tenant=workspace.tenant,
        role=Role.AGENT,
        user=UserFactory(email=f"{name}@{workspace.tenant.slug}.test", full_name=name.title()),
    )


def inbox_world(workspace) -> SimpleNamespace:
    """A conversation (window open two more hours) with an opted-in contact who has an attribute
    and is on a list."""
    now = timezone.now()
    with tenant_context(workspace.tenant):
        phone = PhoneNumberFactory()
        contact = ContactFactory(tenant=workspace.tenant, name="Asha Rao", attributes={"city": "Pune"})
        AttributeDefinition.objects.create(key="city", label="Home city")
        vips = list_create(name="VIPs", actor=workspace.admin.user)
        list_members_add(contact_list=vips, contact_ids=[contact.pk], actor=workspace.admin.user)
        consent_record(
            contact=contact, kind="opt_in", source="agent", evidence="Signed form", actor=workspace.admin.user
        )
        contact.refresh_from_db()
        conversation = ConversationFactory(
            phone_number=phone,
            contact=contact,
            customer_name="Asha",
            last_inbound_at=now - timedelta(hours=22),
            last_message_at=now - timedelta(hours=22),
            window_expires_at=now + timedelta(hours=2),
        )
    return SimpleNamespace(phone=phone, contact=contact, conversation=conversation, vips=vips)
