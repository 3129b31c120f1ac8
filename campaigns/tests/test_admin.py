"""The platform console for campaigns: pages open across tenants, recipients stay masked, and the
pause / cancel actions go through the services (audited with the staff member as the actor)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import platform_context, tenant_context
from campaigns.models import CampaignMessage
from campaigns.tests.support import approved_template, audience, draft, launch, refresh, sandbox_phone
from contacts.models import Contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return User.objects.create_superuser(email="ops@platform.test", password="a-long-passphrase-1")


@pytest.fixture
def staff_client(staff):
    client = Client()
    client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def running(alpha, simulator, connected):
    phone = sandbox_phone(alpha, connected)
    template = approved_template(simulator, alpha, connected)
    return launch(alpha, draft(alpha, phone, template, audience(alpha, 3)))


def _action(client, action: str, campaign) -> object:
    return client.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": action, "_selected_action": [campaign.pk]},
        follow=True,
    )


def test_campaign_pages_open_with_the_stats_summary(staff_client, running):
    changelist = staff_client.get(reverse("admin:campaigns_campaign_changelist"))
    assert changelist.status_code == 200 and b"Spring sale" in changelist.content

    page = staff_client.get(reverse("admin:campaigns_campaign_change", args=[running.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "0 of 3 done" in body and "3 queued" in body
    assert "order_update" in body  # the variant inline


def test_recipient_pages_open_and_show_the_number_masked(alpha, staff_client, running):
    with tenant_context(alpha.tenant):
        contact = Contact.objects.order_by("pk").first()
        full = contact.phone.reveal()
        recipient = CampaignMessage.objects.get(contact=contact)

    changelist = staff_client.get(reverse("admin:campaigns_campaignmessage_changelist"))
    page = staff_client.get(reverse("admin:campaigns_campaignmessage_change", args=[recipient.pk]))

    assert changelist.status_code == 200 and page.status_code == 200
    for response in (changelist, page):
        body = response.content.decode()
        assert contact.phone_hint in body
        assert full not in body and full.lstrip("+") not in body


def test_recipients_cannot_be_added_changed_or_deleted_in_the_console(staff_client, running):
    with platform_context("test"):
        recipient = CampaignMessage.all_tenants.first()
    assert staff_client.get(reverse("admin:campaigns_campaignmessage_add")).status_code == 403
    change = reverse("admin:campaigns_campaignmessage_change", args=[recipient.pk])
    assert staff_client.post(change, {"state": "sent"}).status_code == 403
    delete = reverse("admin:campaigns_campaignmessage_delete", args=[recipient.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403


def test_the_pause_action_pauses_through_the_service(alpha, staff, staff_client, running):
    response = _action(staff_client, "pause", running)

    assert response.status_code == 200 and b"1 campaign(s) paused." in response.content
    campaign = refresh(alpha, running)
    assert campaign.status == "paused" and campaign.status_reason == "Paused by platform staff."
    with platform_context("test"):
        event = AuditEvent.all_tenants.get(action="campaign.pause")
    assert event.actor == staff and event.tenant_id == alpha.tenant.pk


def test_the_cancel_action_cancels_and_a_wrong_state_is_reported(alpha, staff_client, running):
    assert _action(staff_client, "cancel", running).status_code == 200
    assert refresh(alpha, running).status == "cancelled"
    with tenant_context(alpha.tenant):
        assert set(CampaignMessage.objects.values_list("state", flat=True)) == {"cancelled"}

    again = _action(staff_client, "pause", running)

    assert b"cannot be paused" in again.content
    assert refresh(alpha, running).status == "cancelled"
