"""Campaign cost: the estimate stored at launch (rate card × recipients by country × variants) against
the actual cost on the ledger once the simulator's status webhooks for its messages come back."""

from __future__ import annotations

import time

import pytest

from aerostic.core.tenant_context import tenant_context
from aerostic.testsupport.webhooks import deliver_webhook
from billing.models import LedgerEntry
from billing.selectors import campaign_actual, campaign_cost, campaign_estimate
from campaigns.models import CampaignMessage
from campaigns.tests.support import MAPPING, approved_template, audience, draft, launch, run_batches, states
from compliance.models import ComplianceSettings

pytestmark = pytest.mark.django_db


def _no_quiet_hours(member) -> None:
    with tenant_context(member.tenant):
        ComplianceSettings.objects.update_or_create(
            tenant_id=member.tenant.pk, defaults={"quiet_hours_enabled": False, "marketing_cap_messages": 0}
        )


def _status_webhooks(simulator, *, expected: int, timeout: float = 10) -> list[dict]:
    """The status webhooks the simulator has posted (it sends sent → delivered → read on timers)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        payloads = [p for p in simulator.webhooks.delivered if p["entry"][0]["changes"][0]["field"] == "messages"]
        if len(payloads) >= expected:
            return payloads
        time.sleep(0.05)
    raise AssertionError(f"only {len(payloads)} status webhooks of {expected}")


def test_estimate_before_launch_and_actual_from_the_ledger(alpha, phone, simulator, connected, pricing_data):
    # given an A/B campaign, half marketing (India 0.0118 USD) and half utility (India 0.0014 USD)
    _no_quiet_hours(alpha)
    marketing = approved_template(simulator, alpha, connected, name="spring_sale", category="MARKETING")
    utility = approved_template(simulator, alpha, connected, name="order_update", category="UTILITY")
    variants = [
        {"template_id": marketing.pk, "percentage": 50, "mapping": MAPPING},
        {"template_id": utility.pk, "percentage": 50, "mapping": MAPPING},
    ]
    campaign = launch(alpha, draft(alpha, phone, marketing, audience(alpha, 10), variants=variants))

    # the estimate stored at launch
    estimate = campaign.estimate
    assert estimate["status"] == "estimated" and estimate["currency"] == "USD"
    assert estimate["total_micros"] == 5 * 11_800 + 5 * 1_400 == 66_000 and estimate["total"] == "0.066000"
    assert estimate["by_market"] == [
        {
            "market": "India",
            "recipients": 10,
            "amount_micros": 66_000,
            "rates": {"MARKETING": "0.0118", "UTILITY": "0.0014"},
        }
    ]
    assert estimate["card"]["effective_from"] == "2026-01-01" and estimate["unpriced"] == []
    assert estimate["categories"] == {"MARKETING": 50, "UTILITY": 50}

    # one marketing recipient's phone is off: Meta reports it failed, and it is not charged
    with tenant_context(alpha.tenant):
        lost = (
            CampaignMessage.objects.filter(campaign=campaign, variant__template=marketing)
            .select_related("contact")
            .first()
        )
        simulator.state.faults.undeliverable[lost.contact.phone.reveal().lstrip("+")] = 131026
    run_batches(alpha, campaign)
    assert states(alpha, campaign) == {"sent": 10}

    # when the simulator's status webhooks (sent, delivered, read, each with pricing) arrive, twice
    payloads = _status_webhooks(simulator, expected=10 + 9 + 9 + 1)  # sent, delivered, read, failed
    for payload in payloads + payloads:
        deliver_webhook(payload)

    with tenant_context(alpha.tenant):
        actual = campaign_actual(campaign)
        cost = campaign_cost(campaign)
        assert LedgerEntry.objects.filter(campaign=campaign).count() == 9
    assert actual["total_micros"] == 66_000 - 11_800 == 4 * 11_800 + 5 * 1_400
    assert (actual["messages"], actual["charged_messages"], actual["unpriced_messages"]) == (9, 9, 0)
    assert actual["by_category"] == {
        "MARKETING": {"messages": 4, "amount_micros": 47_200},
        "UTILITY": {"messages": 5, "amount_micros": 7_000},
    }
    assert cost["estimate"]["total_micros"] == 66_000 and cost["actual"] == actual


def test_no_card_in_the_currency_means_an_unknown_estimate_not_a_guess(alpha, phone, simulator, connected):
    template = approved_template(simulator, alpha, connected)
    campaign = draft(alpha, phone, template, audience(alpha, 2))
    with tenant_context(alpha.tenant):
        estimate = campaign_estimate(campaign=campaign, by_country={"IN": 2}, variants=list(campaign.variants.all()))
    assert estimate["status"] == "unknown" and "No USD rate card" in estimate["reason"]
    assert estimate["recipients_by_country"] == {"IN": 2}


def test_recipients_without_a_country_or_a_rate_are_listed_as_unpriced(
    alpha, phone, simulator, connected, pricing_data
):
    template = approved_template(simulator, alpha, connected, category="MARKETING", name="promo")
    campaign = draft(alpha, phone, template, audience(alpha, 1))
    with tenant_context(alpha.tenant):
        estimate = campaign_estimate(
            campaign=campaign, by_country={"IN": 3, "AD": 1, "HK": 2, "?": 4}, variants=list(campaign.variants.all())
        )
    assert estimate["total_micros"] == 3 * 11_800 + 60_400  # India + Andorra (Other)
    assert [(row["country"], row["reason"]) for row in estimate["unpriced"]] == [
        ("?", "no country"),
        ("HK", "no MARKETING rate for Hong Kong on the card"),  # Hong Kong's own market since 2026-07-01
    ]
