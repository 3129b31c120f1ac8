"""The billing pages: the dashboard with a charged campaign (spend by category and market, the daily
chart's numbers, estimate vs actual, unpriced usage, the ledger), the CSV export (formula-safe,
audited), the rate card, and the billing profile (admins only)."""

from __future__ import annotations

import csv
import io

import pytest

from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import tenant_context
from billing.models import BillingProfile
from billing.tests.support import deliver_statuses, status
from campaigns.engine.constants import CALLBACK_PREFIX
from campaigns.models import CampaignMessage
from campaigns.tests.support import approved_template, audience, draft, launch

pytestmark = pytest.mark.django_db

CAMPAIGN_NAME = "=HYPERLINK(spring)"  # a spreadsheet would run it: the export must not


def charge_campaign(member, phone, simulator, account, *, recipients: int = 3, name: str = CAMPAIGN_NAME):
    """A launched marketing campaign (India, 0.0118 USD each) whose messages Meta reported delivered,
    plus one status without pricing (unpriced). Returns the campaign."""
    template = approved_template(simulator, member, account, name="spring_sale", category="MARKETING")
    campaign = launch(member, draft(member, phone, template, audience(member, recipients), name=name))
    with tenant_context(member.tenant):
        message_ids = list(CampaignMessage.objects.filter(campaign=campaign).values_list("pk", flat=True))
    deliver_statuses(
        phone,
        *[status(f"wamid.billing-{pk}", callback=f"{CALLBACK_PREFIX}{pk}") for pk in message_ids],
        status("wamid.billing-unpriced", category=None),
    )
    return campaign


@pytest.fixture
def charged(alpha, phone, simulator, connected, pricing_data):
    return charge_campaign(alpha, phone, simulator, connected)


def test_dashboard_shows_the_cycle_spend_by_category_market_and_campaign(alpha, charged, login_client):
    response = login_client(alpha.viewer).get("/billing/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "0.04 USD" in body  # 3 × 0.0118 spent this cycle (two decimals on totals)
    assert "Marketing" in body and "India" in body and "0.0354 USD" in body
    assert f'href="/campaigns/{charged.pk}/"' in body and "HYPERLINK(spring)" in body
    assert "No pricing in the status" in body  # the unpriced message, with its reason
    assert 'id="daily-chart-data"' in body and "vendor/chart.umd.js" in body
    assert response.context["summary"]["spent_micros"] == 35_400
    assert len(response.context["entries"]) == 3


def test_top_campaigns_put_the_estimate_beside_the_actual_cost(alpha, charged, login_client):
    [row] = login_client(alpha.admin).get("/billing/").context["top_campaigns"]
    assert row["id"] == charged.pk and row["messages"] == 3
    assert row["estimate"]["text"] == "0.0354 USD" and row["actual"] == "0.0354 USD"


def test_ledger_filters_by_kind_and_campaign(alpha, charged, login_client):
    client = login_client(alpha.viewer)
    assert len(client.get(f"/billing/?campaign={charged.pk}").context["entries"]) == 3
    assert client.get("/billing/?kind=credit").context["entries"] == []
    assert client.get(f"/billing/?campaign={charged.pk + 1000}").context["entries"] == []
    assert len(client.get("/billing/?cycle=all&kind=debit").context["entries"]) == 3


@pytest.mark.parametrize("campaign", ["\u00b2", "9" * 20, "-1", "x"])
def test_a_campaign_filter_naming_no_campaign_shows_the_whole_ledger(alpha, charged, login_client, campaign):
    response = login_client(alpha.viewer).get("/billing/", {"campaign": campaign, "cycle": "all"})
    assert response.status_code == 200 and len(response.context["entries"]) == 3


def test_the_ledger_is_paginated(alpha, phone, simulator, connected, pricing_data, login_client):
    statuses = [status(f"wamid.page-{n}") for n in range(30)]
    deliver_statuses(phone, *statuses)
    client = login_client(alpha.viewer)
    first, second = client.get("/billing/"), client.get("/billing/?page=2")
    assert len(first.context["entries"]) == 25 and len(second.context["entries"]) == 5


def test_the_ledger_csv_is_formula_safe_and_audited(alpha, charged, login_client):
    response = login_client(alpha.viewer).get(f"/billing/ledger.csv?campaign={charged.pk}")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["occurred_at", "billing_cycle", "kind", "amount"]
    assert len(rows) == 4
    assert {row[11] for row in rows[1:]} == {"'" + CAMPAIGN_NAME}
    assert {row[3] for row in rows[1:]} == {"-0.011800"}  # a negative number stays a number
    with tenant_context(alpha.tenant):
        event = AuditEvent.objects.get(action="billing.export")
    assert event.actor_id == alpha.viewer.user_id and event.metadata["filters"]["campaign"] == charged.pk


def test_another_workspace_sees_none_of_alpha_s_billing(alpha, bravo, charged, login_client):
    client = login_client(bravo.admin)
    body = client.get("/billing/?cycle=all").content.decode()
    assert "HYPERLINK" not in body and "India" not in body and "wamid.billing" not in body
    assert client.get(f"/billing/?cycle=all&campaign={charged.pk}").context["entries"] == []
    export = b"".join(client.get("/billing/ledger.csv?cycle=all").streaming_content).decode()
    assert export.count("\n") == 1  # the header only


def test_the_rate_card_page_shows_the_card_in_force(alpha, pricing_data, login_client):
    response = login_client(alpha.viewer).get("/billing/rate-card/")
    body = response.content.decode()
    assert response.status_code == 200
    card = response.context["card"]
    assert card["currency"] == "USD" and card["effective_from"] in body and "Source:" in body
    assert "India" in body and "0.0118" in body


def test_the_rate_card_page_says_when_no_card_is_loaded(alpha, login_client):
    body = login_client(alpha.viewer).get("/billing/rate-card/").content.decode()
    assert "No rate card in force" in body


def test_the_billing_profile_page_shows_the_platform_settings_read_only(alpha, login_client):
    from billing.services import billing_profile_update

    billing_profile_update(
        tenant=alpha.tenant, actor=None, currency="INR", prepaid=True, credit_limit_micros=12_500_000
    )
    response = login_client(alpha.admin).get("/billing/profile/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "INR" in body and "12.50" in body and "Prepaid" in body
    assert "<form" not in body.split('<section class="card">', 1)[1] and 'name="currency"' not in body


@pytest.mark.parametrize(
    "data",
    [
        {"currency": "EUR", "prepaid": "on", "credit_limit": "1000000"},
        {"prepaid": "on"},
        {"credit_limit": "99999", "cycle_day": "3"},
    ],
    ids=["everything", "prepaid-off", "credit-limit"],
)
def test_a_workspace_admin_cannot_change_prepaid_credit_limit_or_currency(alpha, login_client, data):
    # Given a prepaid workspace with no credit, set by platform staff
    from billing.services import billing_profile_update

    billing_profile_update(tenant=alpha.tenant, actor=None, prepaid=True, credit_limit_micros=0)
    with tenant_context(alpha.tenant):
        audits = AuditEvent.objects.filter(action="billing.profile_update").count()
    # When the workspace admin posts new values
    response = login_client(alpha.admin).post("/billing/profile/", data)
    # Then the portal refuses and nothing is stored
    assert response.status_code == 405
    with tenant_context(alpha.tenant):
        profile = BillingProfile.objects.get()
        assert AuditEvent.objects.filter(action="billing.profile_update").count() == audits
    assert (profile.currency, profile.prepaid, profile.credit_limit_micros, profile.cycle_day) == ("USD", True, 0, 1)


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_only_an_admin_sees_the_billing_settings(alpha, login_client, role):
    client = login_client(alpha.member(role))
    assert client.get("/billing/").status_code == 200
    assert "Billing settings" not in client.get("/billing/").content.decode()
    assert client.get("/billing/profile/").status_code == 403
