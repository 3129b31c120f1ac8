"""Factories for campaigns written straight to the database (no simulator, no launch): a campaign on
a number with one variant (A, 100 %) on an approved template of the same account. Rows take the
tenant of their number (by default the current tenant's, see whatsapp.tests.factories)."""

from __future__ import annotations

import factory

from campaigns.models import Campaign, CampaignVariant
from tenants.tests.factories import TenantScopedFactory
from whatsapp.tests.factories import MessageTemplateFactory, PhoneNumberFactory


class CampaignVariantFactory(TenantScopedFactory):
    class Meta:
        model = CampaignVariant

    campaign = factory.SubFactory("campaigns.tests.factories.CampaignFactory", variant=None)
    tenant = factory.SelfAttribute("campaign.tenant")
    label = "A"
    template = factory.SubFactory(
        MessageTemplateFactory, account=factory.SelfAttribute("..campaign.phone_number.account")
    )
    percentage = 100
    mapping = factory.LazyFunction(
        lambda: {
            "body": {
                "1": {"source": "field", "value": "first_name", "fallback": "there"},
                "2": {"source": "constant", "value": "A-1"},
            }
        }
    )


class CampaignFactory(TenantScopedFactory):
    """A draft; `CampaignFactory(status=Campaign.Status.RUNNING, variant__template=template)` for a
    running one on a given template, `variant=None` for none."""

    class Meta:
        model = Campaign
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Campaign {n}")
    phone_number = factory.SubFactory(PhoneNumberFactory)
    tenant = factory.SelfAttribute("phone_number.tenant")
    status = Campaign.Status.DRAFT
    variant = factory.RelatedFactory(CampaignVariantFactory, factory_related_name="campaign")
