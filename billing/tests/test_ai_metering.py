"""The AI auto-reply's tokens in billing: the price table (exact model, the provider's "*", effective
dates, nothing → free), a decision's usage handed over by the inbox metered exactly once into the
ledger and the counters, in the decision's transaction, shown on the dashboard and in the API, and
the prices kept by platform staff in the admin (audited)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.urls import reverse

from aerostic.core.errors import Forbidden
from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import platform_context, tenant_context
from billing.ai_pricing import ai_token_price, ai_tokens_cost
from billing.models import AITokenPrice, BillingProfile, LedgerEntry, UsageCounter
from billing.services import ai_token_price_save, ai_token_prices_seed, ai_tokens_record
from billing.tests.support import seed
from inbox.ai.usage import usage_record

pytestmark = pytest.mark.django_db

MODEL = "gpt-test"
CATEGORY = f"openai_compatible:{MODEL}"


def price(model: str, prompt: int, completion: int, effective_from: date, **fields) -> AITokenPrice:
    return AITokenPrice.objects.create(
        provider=fields.pop("provider", "openai_compatible"),
        model=model,
        prompt_micros_per_1k=prompt,
        completion_micros_per_1k=completion,
        effective_from=effective_from,
        **fields,
    )


@pytest.fixture
def prices(db):
    """gpt-test at 150 / 600 micros per 1k tokens (a newer 200 / 800 from 2027), the provider's "*"
    at 1,000 / 2,000, and the built-in knowledge base free."""
    return {
        "exact": price(MODEL, 150, 600, date(2026, 1, 1)),
        "newer": price(MODEL, 200, 800, date(2027, 1, 1)),
        "default": price("*", 1_000, 2_000, date(2026, 1, 1)),
        "knowledge_base": price("*", 0, 0, date(2026, 1, 1), provider="knowledge_base"),
    }


def decision(tenant, pk: int = 7, *, prompt: int = 1_200, completion: int = 300, **fields) -> SimpleNamespace:
    """What the inbox's AI decision hands to `usage_record` (inbox.ai.usage reads just these)."""
    values = {"provider": "openai_compatible", "model": MODEL, **fields}
    return SimpleNamespace(tenant_id=tenant.pk, pk=pk, prompt_tokens=prompt, completion_tokens=completion, **values)


def hand_over(tenant, *decisions) -> None:
    """As the inbox does: inside the decision's tenant context and transaction."""
    with tenant_context(tenant), transaction.atomic():
        for item in decisions:
            usage_record(item)


def ai_counters(tenant) -> dict[tuple[str, str], tuple[int, int, int]]:
    with tenant_context(tenant):
        rows = UsageCounter.objects.filter(kind__startswith="ai_")
        return {(c.kind, c.category): (c.count, c.free_count, c.amount_micros) for c in rows}


# --- the price table


@pytest.mark.parametrize(
    ("provider", "model", "at", "expected"),
    [
        pytest.param("openai_compatible", MODEL, datetime(2026, 6, 1, tzinfo=UTC), (150, 600), id="exact-model"),
        pytest.param("openai_compatible", MODEL, datetime(2027, 1, 1, tzinfo=UTC), (200, 800), id="newest-in-force"),
        pytest.param("openai_compatible", "gpt-other", date(2026, 6, 1), (1_000, 2_000), id="provider-default"),
        pytest.param("openai_compatible", MODEL, date(2025, 12, 31), (0, 0), id="before-any-row-free"),
        pytest.param("knowledge_base", "tfidf", date(2026, 6, 1), (0, 0), id="zero-priced-provider"),
        pytest.param("someone_else", MODEL, date(2026, 6, 1), (0, 0), id="unknown-provider-free"),
    ],
)
def test_the_price_is_the_newest_row_in_force_for_the_model_else_the_providers_default(
    prices, provider, model, at, expected
):
    found = ai_token_price(provider, model, at)
    assert (found.prompt_micros_per_1k, found.completion_micros_per_1k) == expected


def test_a_price_applies_from_its_day_in_utc(prices):
    late_on_new_years_eve = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert ai_token_price("openai_compatible", MODEL, late_on_new_years_eve).prompt_micros_per_1k == 150
    assert ai_token_price("openai_compatible", MODEL, date(2027, 1, 1)).prompt_micros_per_1k == 200


def test_a_workspace_is_priced_only_in_its_own_currency(prices):
    price(MODEL, 140, 550, date(2026, 1, 1), currency="EUR")
    assert ai_token_price("openai_compatible", MODEL, date(2026, 6, 1), "EUR").prompt_micros_per_1k == 140
    assert ai_token_price("openai_compatible", MODEL, date(2026, 6, 1), "INR").prompt_micros_per_1k == 0


@pytest.mark.parametrize(
    ("rates", "prompt", "completion", "micros"),
    [
        pytest.param((150, 600), 1_200, 300, 360, id="1200x150+300x600"),
        pytest.param((500, 500), 1, 0, 1, id="half-a-micro-rounds-up"),  # 1 × 500 / 1000 = 0.5
        pytest.param((499, 0), 1, 0, 0, id="less-than-half-rounds-down"),
        pytest.param((500, 500), 1, 1, 1, id="rounded-once-on-the-sum"),  # 0.5 + 0.5, not 1 + 1
        pytest.param((150, 600), 0, 0, 0, id="nothing"),
    ],
)
def test_tokens_cost_their_share_of_the_price_per_1k_rounded_half_up(rates, prompt, completion, micros):
    rate = AITokenPrice(prompt_micros_per_1k=rates[0], completion_micros_per_1k=rates[1])
    assert ai_tokens_cost(rate, prompt_tokens=prompt, completion_tokens=completion) == micros


def test_seeding_adds_the_free_knowledge_base_and_the_example_once(db):
    output = seed()
    assert "AI token prices: 2 default row(s) added" in output
    rows = {row.provider: row for row in AITokenPrice.objects.filter(model="*")}
    assert (rows["knowledge_base"].prompt_micros_per_1k, rows["knowledge_base"].completion_micros_per_1k) == (0, 0)
    assert (rows["openai_compatible"].prompt_micros_per_1k, rows["openai_compatible"].completion_micros_per_1k) == (
        150,
        600,
    )
    assert "Operators set real prices in the admin" in rows["openai_compatible"].source
    assert "0 default row(s) added" in seed() and AITokenPrice.objects.count() == 2
    assert ai_token_prices_seed() == []


# --- metering a decision


def test_a_decision_handed_over_twice_is_metered_once(alpha, prices):
    hand_over(alpha.tenant, decision(alpha.tenant), decision(alpha.tenant))
    hand_over(alpha.tenant, decision(alpha.tenant))
    with tenant_context(alpha.tenant):
        [entry] = LedgerEntry.objects.all()
    assert (entry.kind, entry.reference, entry.category) == ("debit", "ai:ai-reply:7", "AI")
    assert entry.amount_micros == -360  # 1,200 × 150 / 1000 + 300 × 600 / 1000
    assert entry.description.startswith("AI reply: 1200 prompt + 300 completion tokens, openai_compatible gpt-test")
    assert ai_counters(alpha.tenant) == {
        ("ai_replies", CATEGORY): (1, 0, 0),
        ("ai_prompt", CATEGORY): (1_200, 0, 0),
        ("ai_completion", CATEGORY): (300, 0, 0),
        ("ai_tokens", CATEGORY): (1_500, 0, 360),
    }


def test_decisions_add_up_per_provider_and_model_in_the_cycle(alpha, prices):
    hand_over(
        alpha.tenant,
        decision(alpha.tenant, 1),
        decision(alpha.tenant, 2, prompt=800, completion=200),
        decision(alpha.tenant, 3, prompt=50, completion=10, provider="knowledge_base", model="tfidf"),
    )
    counters = ai_counters(alpha.tenant)
    assert counters[("ai_replies", CATEGORY)] == (2, 0, 0)
    assert counters[("ai_tokens", CATEGORY)] == (2_500, 0, 360 + 240)
    assert counters[("ai_tokens", "knowledge_base:tfidf")] == (60, 60, 0)  # free tokens are counted as free
    assert counters[("ai_replies", "knowledge_base:tfidf")] == (1, 1, 0)


def test_a_decision_without_tokens_meters_nothing(alpha, prices):
    hand_over(alpha.tenant, decision(alpha.tenant, prompt=0, completion=0))
    assert not ai_tokens_record(
        tenant=alpha.tenant,
        reference="r",
        provider="openai_compatible",
        model=MODEL,
        prompt_tokens=0,
        completion_tokens=0,
    )
    with tenant_context(alpha.tenant):
        assert not LedgerEntry.objects.exists() and not UsageCounter.objects.exists()


def test_a_decision_rolled_back_takes_its_charge_with_it(alpha, prices):
    with pytest.raises(RuntimeError), tenant_context(alpha.tenant), transaction.atomic():
        usage_record(decision(alpha.tenant))
        raise RuntimeError("the decision failed after metering")
    with tenant_context(alpha.tenant):
        assert not LedgerEntry.objects.exists() and not UsageCounter.objects.exists()
    hand_over(alpha.tenant, decision(alpha.tenant))  # the re-run meters it then
    with tenant_context(alpha.tenant):
        assert LedgerEntry.objects.get().amount_micros == -360


def test_a_prepaid_balance_pays_for_the_tokens(alpha, prices):
    with tenant_context(alpha.tenant):
        BillingProfile.objects.create(tenant=alpha.tenant, prepaid=True, balance_micros=1_000)
    hand_over(alpha.tenant, decision(alpha.tenant))
    with tenant_context(alpha.tenant):
        assert BillingProfile.objects.get().balance_micros == 1_000 - 360


# --- where people see it


def test_the_dashboard_shows_ai_usage_per_provider_and_model(alpha, prices, login_client):
    hand_over(alpha.tenant, decision(alpha.tenant))
    response = login_client(alpha.viewer).get("/billing/")
    assert response.status_code == 200
    [row] = response.context["ai_usage"]
    assert (row["provider"], row["model"], row["replies"]) == ("openai_compatible", MODEL, 1)
    assert (row["prompt_tokens"], row["completion_tokens"], row["amount_micros"]) == (1_200, 300, 360)
    body = response.content.decode()
    assert 'id="ai-usage-table"' in body and "<td>1200</td>" in body and "<td>300</td>" in body
    assert "0.0004 USD" in body  # 360 micros, four decimals
    assert "AI replies" in body  # the ledger's AI category, named for people


def test_the_usage_api_answers_ai_usage_per_provider_and_model(alpha, prices, api_client_for):
    hand_over(alpha.tenant, decision(alpha.tenant))
    body = api_client_for(alpha.viewer).get("/api/v1/billing/usage/").json()
    assert body["ai_usage"] == [
        {
            "provider": "openai_compatible",
            "model": MODEL,
            "replies": 1,
            "prompt_tokens": 1_200,
            "completion_tokens": 300,
            "tokens": 1_500,
            "amount_micros": 360,
        }
    ]
    assert body["spent_micros"] == 360 and body["by_market"] == []


def test_another_workspace_sees_none_of_it(alpha, bravo, prices, api_client_for):
    hand_over(alpha.tenant, decision(alpha.tenant))
    assert api_client_for(bravo.viewer).get("/api/v1/billing/usage/").json()["ai_usage"] == []


# --- the platform console


def test_the_admin_lists_prices_and_a_change_is_audited(console_client, prices):
    listing = console_client.get(reverse("admin:billing_aitokenprice_changelist"))
    assert listing.status_code == 200 and MODEL in listing.content.decode()
    row = prices["exact"]
    response = console_client.post(
        reverse("admin:billing_aitokenprice_change", args=[row.pk]),
        {
            "provider": "openai_compatible",
            "model": MODEL,
            "currency": "usd",
            "prompt_micros_per_1k": "175",
            "completion_micros_per_1k": "600",
            "effective_from": "2026-01-01",
            "source": "The provider's price page, 2026-01",
        },
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.prompt_micros_per_1k, row.currency) == (175, "USD")
    with platform_context("test"):
        event = AuditEvent.objects.get(action="billing.ai_price_save")
    assert (
        event.metadata["before"]["prompt_micros_per_1k"] == 150
        and event.metadata["after"]["prompt_micros_per_1k"] == 175
    )


def test_the_admin_removes_a_price_through_the_audited_service(console_client, prices):
    row = prices["newer"]
    response = console_client.post(reverse("admin:billing_aitokenprice_delete", args=[row.pk]), {"post": "yes"})
    assert response.status_code == 302 and not AITokenPrice.objects.filter(pk=row.pk).exists()
    with platform_context("test"):
        assert AuditEvent.objects.filter(action="billing.ai_price_delete").count() == 1


def test_only_platform_staff_change_prices(alpha, prices):
    row = prices["exact"]
    row.prompt_micros_per_1k = 1
    with pytest.raises(Forbidden):
        ai_token_price_save(price=row, actor=alpha.admin.user)
