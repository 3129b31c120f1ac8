"""The section campaigns adds to the inbox's contact side panel: registered when the app is ready,
the contact's last ten campaigns newest first with their outcome, and nothing for members who may
not see campaigns."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from aerostic.core.tenant_context import tenant_context
from campaigns import selectors
from campaigns.inbox_panel import SECTION_TITLE, campaign_history_section
from campaigns.models import Campaign, CampaignMessage
from campaigns.tests.factories import CampaignFactory
from contacts.tests.factories import ContactFactory
from inbox.contact_panel import _SECTIONS
from whatsapp.tests.factories import PhoneNumberFactory

pytestmark = pytest.mark.django_db
State = CampaignMessage.State


def _sent(contact, phone, name: str, state: str, *, days_ago: int, status=Campaign.Status.COMPLETED, **fields):
    campaign = CampaignFactory(
        name=name, phone_number=phone, status=status, launched_at=timezone.now() - timedelta(days=days_ago)
    )
    return CampaignMessage.objects.create(
        campaign=campaign, variant=campaign.variants.get(), contact=contact, state=state, **fields
    )


def _request(role: str):
    request = RequestFactory().get("/inbox/1/panel/")
    request.membership = SimpleNamespace(role=role)
    return request


def test_campaigns_registers_its_section_in_the_inbox_panel():
    assert _SECTIONS[SECTION_TITLE].render is campaign_history_section


def test_the_history_is_the_last_ten_sent_campaigns_newest_first(alpha):
    with tenant_context(alpha.tenant):
        phone = PhoneNumberFactory()
        contact, other = ContactFactory(tenant=alpha.tenant), ContactFactory(tenant=alpha.tenant)
        for day in range(12):
            _sent(contact, phone, f"Weekly {day}", State.READ, days_ago=day)
        _sent(contact, phone, "Still a draft", State.QUEUED, days_ago=0, status=Campaign.Status.DRAFT)
        _sent(other, phone, "Someone else's", State.READ, days_ago=0)
        history = selectors.contact_campaign_history(contact.pk)
    assert [row.campaign.name for row in history] == [f"Weekly {day}" for day in range(10)]


def test_the_section_shows_each_outcome_linked_to_its_campaign(alpha):
    with tenant_context(alpha.tenant):
        phone = PhoneNumberFactory()
        contact = ContactFactory(tenant=alpha.tenant)
        read = _sent(contact, phone, "Spring sale", State.READ, days_ago=2, read_at=timezone.now())
        _sent(contact, phone, "Winter sale", State.FAILED, days_ago=30, error_detail="Not a WhatsApp user")
        _sent(contact, phone, "Autumn sale", State.SKIPPED, days_ago=60, error_detail="Opted out")
        html = campaign_history_section(_request("agent"), contact)
    assert reverse("campaigns:detail", args=[read.campaign_id]) in html
    for text in ("Spring sale", "Read", "Winter sale", "Failed", "Not a WhatsApp user", "Autumn sale", "Skipped"):
        assert text in html


def test_no_campaign_yet_says_so(alpha):
    with tenant_context(alpha.tenant):
        html = campaign_history_section(_request("viewer"), ContactFactory(tenant=alpha.tenant))
    assert "No campaign has been sent to this contact." in html


def test_members_who_may_not_see_campaigns_get_no_section(alpha):
    with tenant_context(alpha.tenant):
        assert campaign_history_section(_request("no-such-role"), ContactFactory(tenant=alpha.tenant)) is None
