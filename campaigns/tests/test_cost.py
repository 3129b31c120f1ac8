"""The campaign page shows the cost estimated at launch and the actual cost from the ledger side by side."""

from __future__ import annotations

import pytest

from aerostic.core.money import format_money
from aerostic.core.tenant_context import tenant_context
from billing.selectors import campaign_actual
from billing.tests.support import deliver_statuses, seed, status
from campaigns.models import CampaignMessage
from campaigns.tests.support import approved_template, audience, draft, launch, run_batches, sandbox_phone

pytestmark = pytest.mark.django_db


def test_estimate_and_actual_cost_side_by_side_on_the_live_campaign_page(alpha, connected, simulator, login_client):
    seed()  # the shipped rate cards and markets
    phone = sandbox_phone(alpha, connected)
    template = approved_template(simulator, alpha, connected)
    campaign = launch(alpha, draft(alpha, phone, template, audience(alpha, 4)))
    run_batches(alpha, campaign)
    with tenant_context(alpha.tenant):
        sent = list(CampaignMessage.objects.select_related("contact").order_by("pk"))
    delivered = [
        status(row.wamid, recipient=row.contact.phone.reveal().lstrip("+"), category="utility") for row in sent[:3]
    ]
    deliver_statuses(phone, *delivered)
    deliver_statuses(phone, *delivered)  # Meta re-delivers: still charged once

    with tenant_context(alpha.tenant):
        actual = campaign_actual(campaign)
        estimate = campaign.__class__.objects.get(pk=campaign.pk).estimate
    assert actual["charged_messages"] == 3 and actual["total_micros"] > 0
    assert estimate["status"] == "estimated" and estimate["total_micros"] > actual["total_micros"]
    page = login_client(alpha.viewer).get(f"/campaigns/{campaign.pk}/stats/").content.decode()
    assert "Estimated cost" in page and "Actual cost so far" in page
    assert format_money(actual["total_micros"], actual["currency"]) in page
    assert "3 / 0 / 0" in page  # charged / free / unpriced
