"""Campaign rules that read only rows — the pre-launch check's number and template problems, and
pausing the campaigns of a template Meta paused — on campaigns the factories write straight to the
database: no simulator, no launch."""

from __future__ import annotations

import pytest

from aerostic.core.tenant_context import tenant_context
from campaigns.models import Campaign, CampaignVariant
from campaigns.services import campaigns_pause_for_template, launch_check
from campaigns.tests.factories import CampaignFactory
from whatsapp.models import PhoneNumber
from whatsapp.tests.factories import MessageTemplateFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db

RUNNING, SCHEDULED, DRAFT, PAUSED = (Campaign.Status.RUNNING, Campaign.Status.SCHEDULED, "draft", "paused")


def test_the_check_names_an_unapproved_template_and_a_deactivated_number(alpha):
    with tenant_context(alpha.tenant):
        phone = PhoneNumberFactory()
        draft_template = MessageTemplateFactory(account=phone.account, name="spring_sale", status="DRAFT")
        campaign = CampaignFactory(phone_number=phone, variant__template=draft_template)
        assert "Variant A: the template spring_sale (en_US) is draft, not approved." in launch_check(campaign).problems
        assert "The campaign's WhatsApp number is not connected." not in launch_check(campaign).problems

        PhoneNumber.objects.filter(pk=phone.pk).update(is_active=False)
        campaign = Campaign.objects.select_related("phone_number__account").get(pk=campaign.pk)
        assert "The campaign's WhatsApp number is not connected." in launch_check(campaign).problems


def test_a_paused_template_pauses_the_running_and_scheduled_campaigns_that_use_it(alpha):
    with tenant_context(alpha.tenant):
        phone = PhoneNumberFactory()
        paused = MessageTemplateFactory(account=phone.account, status="PAUSED")
        other = MessageTemplateFactory(account=phone.account)
        running = CampaignFactory(phone_number=phone, status=RUNNING, variant__template=paused)
        scheduled = CampaignFactory(phone_number=phone, status=SCHEDULED, variant__template=paused)
        draft = CampaignFactory(phone_number=phone, variant__template=paused)
        elsewhere = CampaignFactory(phone_number=phone, status=RUNNING, variant__template=other)

        assert campaigns_pause_for_template(template=paused, reason="Meta paused the template.") == 2

        statuses = dict(Campaign.objects.values_list("pk", "status"))
        assert [statuses[c.pk] for c in (running, scheduled, draft, elsewhere)] == [PAUSED, PAUSED, DRAFT, RUNNING]
        assert Campaign.objects.get(pk=running.pk).status_reason == "Meta paused the template."


def test_a_factory_campaign_is_whole_and_belongs_to_its_workspace(alpha, bravo):
    with tenant_context(alpha.tenant):
        campaign = CampaignFactory()
        (variant,) = campaign.variants.all()
        assert (variant.label, variant.percentage, variant.template.status) == ("A", 100, "APPROVED")
        assert variant.template.account_id == campaign.phone_number.account_id
        assert {campaign.tenant_id, variant.tenant_id, variant.template.tenant_id} == {alpha.tenant.pk}
        assert not CampaignFactory(variant=None).variants.exists()
    with tenant_context(bravo.tenant):
        assert not Campaign.objects.exists() and not CampaignVariant.objects.exists()
