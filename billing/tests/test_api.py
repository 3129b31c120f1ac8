"""/api/v1/billing/…: usage, the ledger, the rate card and the estimate answer with the workspace's
own data, and bad input is a 400 by field."""

from __future__ import annotations

import pytest

from aerostic.core.tenant_context import tenant_context
from billing.tests.test_views import charge_campaign
from campaigns.tests.support import approved_template, audience
from whatsapp.models import MessageTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture
def charged(alpha, phone, simulator, connected, pricing_data):
    return charge_campaign(alpha, phone, simulator, connected)


def test_usage_answers_the_current_cycle(alpha, charged, api_client_for):
    response = api_client_for(alpha.viewer).get("/api/v1/billing/usage/")
    assert response.status_code == 200
    body = response.json()
    assert body["currency"] == "USD" and body["spent_micros"] == 35_400 and body["spent"] == "0.035400"
    assert body["by_category"] == [{"category": "MARKETING", "amount_micros": 35_400, "count": 3}]
    assert body["by_market"] == [{"market": "India", "amount_micros": 35_400, "count": 3}]
    assert body["top_campaigns"][0]["campaign_id"] == charged.pk and body["unpriced"] == 1
    assert sum(day["amount_micros"] for day in body["daily"]) == 35_400


def test_usage_of_a_past_cycle_is_empty_and_a_bad_cycle_is_a_400(alpha, charged, api_client_for):
    client = api_client_for(alpha.viewer)
    past = client.get("/api/v1/billing/usage/?cycle=2020-03-15").json()
    assert past["cycle"] == "2020-03-01" and past["spent_micros"] == 0
    response = client.get("/api/v1/billing/usage/?cycle=soon")
    assert response.status_code == 400 and "cycle" in response.json()


def test_ledger_is_paginated_and_filtered(alpha, charged, api_client_for):
    client = api_client_for(alpha.viewer)
    body = client.get(f"/api/v1/billing/ledger/?campaign={charged.pk}&kind=debit").json()
    assert body["count"] == 3 and {row["amount_micros"] for row in body["results"]} == {-11_800}
    assert {row["rate"] for row in body["results"]} == {"0.0118"}
    assert client.get("/api/v1/billing/ledger/?kind=credit").json()["count"] == 0


@pytest.mark.parametrize(
    "query, field",
    [
        pytest.param("kind=refund", "kind", id="unknown-kind"),
        pytest.param("campaign=x", "campaign", id="campaign-not-a-number"),
        pytest.param("since=2025-01-01T00:00:00", "since", id="naive-time"),
        pytest.param("since=2025-02-01T00:00:00Z&until=2025-01-01T00:00:00Z", "until", id="until-before-since"),
    ],
)
def test_bad_ledger_filters_are_a_400_by_field(alpha, api_client_for, query, field):
    response = api_client_for(alpha.viewer).get(f"/api/v1/billing/ledger/?{query}")
    assert response.status_code == 400 and field in response.json()


def test_another_workspace_sees_none_of_alpha_s_ledger(alpha, bravo, charged, api_client_for):
    client = api_client_for(bravo.viewer)
    assert client.get("/api/v1/billing/ledger/").json()["count"] == 0
    assert client.get("/api/v1/billing/usage/").json()["spent_micros"] == 0


def test_rate_card_in_force_and_by_date(alpha, pricing_data, api_client_for):
    client = api_client_for(alpha.viewer)
    card = client.get("/api/v1/billing/rate-card/").json()
    assert card["currency"] == "USD" and card["pricing_model"] == "per_message"
    india = next(row for row in card["markets"] if row["market"] == "India")
    assert india["rates"]["MARKETING"] == "0.0118" and "IN" in india["countries"]
    inr = client.get("/api/v1/billing/rate-card/?currency=inr&at=2025-11-01T00:00:00Z").json()
    assert (inr["currency"], inr["effective_from"]) == ("INR", "2025-10-01")
    assert client.get("/api/v1/billing/rate-card/?at=2025-12-01T00:00:00Z").status_code == 404  # before the USD card


def test_rate_card_answers_404_without_a_card_and_400_for_bad_input(alpha, pricing_data, api_client_for):
    client = api_client_for(alpha.viewer)
    assert client.get("/api/v1/billing/rate-card/?currency=XYZ").status_code == 404
    response = client.get("/api/v1/billing/rate-card/?currency=dollars&at=yesterday")
    assert response.status_code == 400 and set(response.json()) == {"currency", "at"}


def test_estimate_for_a_list_and_a_template(alpha, phone, simulator, connected, pricing_data, api_client_for):
    template = approved_template(simulator, alpha, connected, name="spring_sale", category="MARKETING")
    utility = approved_template(simulator, alpha, connected, name="order_update", category="UTILITY")
    contacts = audience(alpha, 10)
    client = api_client_for(alpha.viewer)

    single = client.post(
        "/api/v1/billing/estimate/", {"template_id": template.pk, "list_ids": [contacts.pk]}, format="json"
    )
    assert single.status_code == 200, single.content
    assert single.json()["total_micros"] == 10 * 11_800 and single.json()["recipients"] == 10
    assert single.json()["recipients_by_country"] == {"IN": 10}

    split = client.post(
        "/api/v1/billing/estimate/",
        {
            "variants": [{"template_id": template.pk, "percentage": 50}, {"template_id": utility.pk, "percentage": 50}],
            "list_ids": [contacts.pk],
        },
        format="json",
    ).json()
    assert split["status"] == "estimated" and split["total_micros"] == 66_000
    assert split["categories"] == {"MARKETING": 50, "UTILITY": 50}


def test_estimate_without_a_rate_card_is_unknown_not_guessed(alpha, connected, api_client_for):
    with tenant_context(alpha.tenant):
        template = MessageTemplate.objects.get(account=connected, name="hello_world")
    contacts = audience(alpha, 2)
    body = api_client_for(alpha.viewer).post(
        "/api/v1/billing/estimate/", {"template_id": template.pk, "list_ids": [contacts.pk]}, format="json"
    )
    assert body.status_code == 200 and body.json()["status"] == "unknown" and "rate card" in body.json()["reason"]


@pytest.mark.parametrize(
    "payload, fields",
    [
        pytest.param({"list_ids": [1]}, {"template_id"}, id="no-template"),
        pytest.param(
            {"template_id": 1, "variants": [{"template_id": 1, "percentage": 100}]}, {"template_id"}, id="both"
        ),
        pytest.param({"variants": [{"template_id": 1, "percentage": 60}], "list_ids": [1]}, {"variants"}, id="not-100"),
        pytest.param({"template_id": 1}, {"list_ids"}, id="no-audience"),
        pytest.param({"template_id": "x", "list_ids": "y"}, {"template_id", "list_ids"}, id="wrong-types"),
    ],
)
def test_bad_estimate_input_is_a_400_by_field(alpha, api_client_for, payload, fields):
    response = api_client_for(alpha.viewer).post("/api/v1/billing/estimate/", payload, format="json")
    assert response.status_code == 400 and set(response.json()) == fields


@pytest.mark.parametrize(
    "payload, field, message",
    [
        pytest.param({"template_id": 1, "list_ids": list(range(1, 52))}, "list_ids", "at most 50", id="lists"),
        pytest.param({"template_id": 1, "segment_ids": list(range(1, 52))}, "segment_ids", "at most 50", id="segments"),
        pytest.param(
            {"variants": [{"template_id": n, "percentage": 25} for n in range(1, 5)], "list_ids": [1]},
            "variants",
            "at most 3",
            id="variants",
        ),
    ],
)
def test_an_estimate_above_the_caps_is_refused_before_any_lookup(
    alpha, api_client_for, django_assert_max_num_queries, payload, field, message
):
    client = api_client_for(alpha.viewer)
    # The caps are checked on the input alone: no query per id, however many are sent
    with django_assert_max_num_queries(12):
        response = client.post("/api/v1/billing/estimate/", payload, format="json")
    assert response.status_code == 400
    assert message in " ".join(response.json()[field]).lower()


def test_estimate_refuses_another_workspace_s_template_and_list(alpha, bravo, connected, api_client_for):
    with tenant_context(alpha.tenant):
        template = MessageTemplate.objects.get(account=connected, name="hello_world")
    contacts = audience(alpha, 1)
    response = api_client_for(bravo.admin).post(
        "/api/v1/billing/estimate/", {"template_id": template.pk, "list_ids": [contacts.pk]}, format="json"
    )
    assert response.status_code == 400 and set(response.json()) == {"template_id", "list_ids"}


def test_the_schema_describes_the_billing_routes(client):
    paths = client.get("/api/v1/schema/?format=json").json()["paths"]
    assert {
        "/api/v1/billing/usage/",
        "/api/v1/billing/ledger/",
        "/api/v1/billing/rate-card/",
        "/api/v1/billing/estimate/",
    } <= set(paths)


def test_the_billing_schema_builds_without_warnings():
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    schema = SchemaGenerator(patterns=None).get_schema(request=None, public=True)
    problems = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    assert "/api/v1/billing/estimate/" in schema["paths"]
    assert [problem for problem in problems if "billing" in problem.lower()] == []
