"""The pricing rules: country → market in both shipped structures, the card and model in force by
date, and what one message costs (free service, free utility in the window, free entry point,
Meta's word first, unpriced rather than guessed)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from billing import pricing
from billing.models import Category, PricingModel, PricingType
from billing.tests.support import CARD_HEADER, seed, write_csv

pytestmark = pytest.mark.django_db

BEFORE_JULY_2026 = datetime(2026, 3, 10, 12, tzinfo=UTC)
AFTER_JULY_2026 = datetime(2026, 8, 10, 12, tzinfo=UTC)

COUNTRIES = [
    # country, market 2025-10-01 → 2026-06-30, market from 2026-07-01
    ("IN", "India", "India"),
    ("US", "North America", "North America"),
    ("CA", "North America", "North America"),
    ("BR", "Brazil", "Brazil"),
    ("MX", "Mexico", "Mexico"),
    ("AR", "Argentina", "Argentina"),
    ("GB", "United Kingdom", "United Kingdom"),
    ("DE", "Germany", "Germany"),
    ("FR", "France", "France"),
    ("NL", "Netherlands", "Netherlands"),
    ("AE", "United Arab Emirates", "United Arab Emirates"),
    ("SA", "Saudi Arabia", "Saudi Arabia"),
    ("ID", "Indonesia", "Indonesia"),
    ("NG", "Nigeria", "Nigeria"),
    ("ZA", "South Africa", "South Africa"),
    ("AU", "Rest of Asia Pacific", "Rest of Asia Pacific"),
    ("JP", "Rest of Asia Pacific", "Rest of Asia Pacific"),
    ("AT", "Rest of Western Europe", "Rest of Western Europe"),
    ("KE", "Rest of Africa", "Rest of Africa"),
    ("ZW", "Rest of Africa", "Rest of Africa"),
    ("BH", "Rest of Middle East", "Rest of Middle East"),
    ("CR", "Rest of Latin America", "Rest of Latin America"),
    ("PR", "Rest of Latin America", "Rest of Latin America"),
    ("HK", "Rest of Asia Pacific", "Hong Kong"),
    ("SG", "Rest of Asia Pacific", "Singapore"),
    ("HU", "Rest of Central & Eastern Europe", "Hungary"),
    ("PL", "Rest of Central & Eastern Europe", "Poland"),
    ("QA", "Rest of Middle East", "Qatar"),
    ("RO", "Rest of Central & Eastern Europe", "Romania"),
    ("AL", "Rest of Central & Eastern Europe", "Rest of Central & Eastern Europe"),
    ("AD", "Other", "Other"),  # not listed by any source: Other
    ("AQ", "Other", "Other"),
]


@pytest.mark.parametrize(("country", "before", "after"), COUNTRIES, ids=[row[0] for row in COUNTRIES])
def test_country_market_in_both_structures(pricing_data, country, before, after):
    assert pricing.market_for(country, BEFORE_JULY_2026) == before
    assert pricing.market_for(country, AFTER_JULY_2026) == after


def test_no_market_before_the_first_structure_rather_than_a_guess(pricing_data):
    assert pricing.market_for("IN", datetime(2025, 9, 30, 23, tzinfo=UTC)) is None


def test_the_newest_card_on_or_before_the_date_applies(pricing_data):
    assert pricing.card_for("USD", BEFORE_JULY_2026).effective_from == date(2026, 1, 1)
    assert pricing.card_for("USD", datetime(2025, 12, 31, 23, 59, tzinfo=UTC)) is None
    assert pricing.card_for("EUR", datetime(2026, 6, 30, tzinfo=UTC)) is None
    assert pricing.card_for("EUR", AFTER_JULY_2026).effective_from == date(2026, 7, 1)
    assert pricing.card_for("INR", AFTER_JULY_2026).effective_from == date(2025, 10, 1)


def _price(**overrides):
    options = {"currency": "USD", "country": "IN", "category": "marketing", "at": BEFORE_JULY_2026}
    return pricing.price_message(**{**options, **overrides})


def test_a_delivered_marketing_message_costs_its_market_rate(pricing_data):
    priced = _price()
    assert (priced.amount_micros, priced.market, priced.category) == (11_800, "India", Category.MARKETING)
    assert priced.pricing_type == PricingType.REGULAR and priced.rate.card.currency == "USD"
    assert _price(country="DE").amount_micros == 136_500
    assert _price(country="AD").market == "Other" and _price(country="AD").amount_micros == 60_400


def test_service_messages_are_free_under_per_message_pricing(pricing_data):
    priced = _price(category="service")
    assert priced.amount_micros == 0 and priced.pricing_type == PricingType.FREE_CUSTOMER_SERVICE


def test_utility_is_free_inside_the_service_window_only(pricing_data):
    inside = _price(category="utility", in_service_window=True)
    outside = _price(category="utility", in_service_window=False)
    assert (inside.amount_micros, inside.pricing_type) == (0, PricingType.FREE_CUSTOMER_SERVICE)
    assert (outside.amount_micros, outside.pricing_type) == (1_400, PricingType.REGULAR)
    assert _price(category="marketing", in_service_window=True).amount_micros == 11_800  # marketing never


def test_the_free_entry_point_lasts_the_cards_72_hours(pricing_data):
    clicked = BEFORE_JULY_2026 - timedelta(hours=71)
    assert _price(entry_point_at=clicked).pricing_type == PricingType.FREE_ENTRY_POINT
    assert _price(entry_point_at=BEFORE_JULY_2026 - timedelta(hours=73)).amount_micros == 11_800
    assert _price(meta_type="free_entry_point").amount_micros == 0  # Meta's word, any category


def test_meta_saying_regular_overrides_the_cards_free_rules(pricing_data):
    """Service charged by Meta (its cards charge service from 2026-10-01) on a card that has it free
    and no service rate: unpriced with the reason, not free and not guessed."""
    result = _price(category="service", meta_type="regular")
    assert isinstance(result, pricing.Unpriced) and result.code == "no_rate"
    assert "no SERVICE rate for India" in result.detail


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        pytest.param({"category": "marketing_lite"}, "unknown_category", id="unknown-category"),
        pytest.param({"currency": "JPY"}, "no_card", id="no-card-in-currency"),
        pytest.param({"at": datetime(2025, 11, 1, tzinfo=UTC)}, "no_card", id="no-usd-card-yet"),
        pytest.param({"country": ""}, "no_country", id="no-country"),
        pytest.param({"country": "HK", "at": AFTER_JULY_2026}, "no_rate", id="market-not-on-card"),
        pytest.param({"category": "authentication_international", "country": "BR"}, "no_rate", id="no-auth-intl"),
    ],
)
def test_what_cannot_be_priced_says_why(pricing_data, overrides, code):
    result = _price(**overrides)
    assert isinstance(result, pricing.Unpriced) and result.code == code and result.detail


# --- per-conversation (before 2025-07-01): a test card, not Meta's figures


@pytest.fixture
def conversation_card(tmp_path, pricing_data):
    source = "# source: test figures written by billing/tests (not Meta's)"
    markets = write_csv(
        tmp_path,
        "markets.csv",
        [source, "effective_date,country_code,market", "2025-01-01,IN,India", "2025-01-01,US,North America"],
    )
    card = write_csv(
        tmp_path,
        "conversations.csv",
        [source, '# rules: {"service_free_monthly_allowance": 2}', CARD_HEADER]
        + [
            "2025-01-01,per_conversation,USD,India,marketing,0.0107",
            "2025-01-01,per_conversation,USD,India,utility,0.0014",
            "2025-01-01,per_conversation,USD,India,service,0.0040",
            "2025-01-01,per_conversation,USD,Other,marketing,0.0600",
        ],
    )
    seed("--markets", str(markets), "--file", str(card))


def test_the_pricing_model_follows_the_date(conversation_card):
    june = datetime(2025, 6, 30, 23, tzinfo=UTC)
    assert pricing.model_in_force(june) == PricingModel.PER_CONVERSATION
    assert pricing.model_in_force(datetime(2025, 7, 1, tzinfo=UTC)) == PricingModel.PER_MESSAGE
    assert _price(at=june).pricing_model == PricingModel.PER_CONVERSATION
    assert _price(at=june).amount_micros == 10_700
    assert _price().pricing_model == PricingModel.PER_MESSAGE and _price().amount_micros == 11_800
    # July 2025 – December 2025 in USD: per-message, and no USD per-message card is loaded for then.
    assert _price(at=datetime(2025, 8, 1, tzinfo=UTC)).code == "no_card"


def test_per_conversation_service_is_free_up_to_the_monthly_allowance(conversation_card):
    june = datetime(2025, 6, 15, tzinfo=UTC)
    free = _price(at=june, category="service", service_conversations_used=1)
    charged = _price(at=june, category="service", service_conversations_used=2)
    assert (free.amount_micros, free.pricing_type) == (0, PricingType.FREE_TIER)
    assert (charged.amount_micros, charged.pricing_type) == (4_000, PricingType.REGULAR)
    entry = _price(at=june, category="referral_conversion")
    assert (entry.amount_micros, entry.pricing_type) == (0, PricingType.FREE_ENTRY_POINT)
