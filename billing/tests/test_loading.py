"""seed_pricing: the shipped cards load (60+ rates), re-seeding changes nothing, bad files are refused
with their line numbers and nothing is half-loaded, partial cards need --allow-partial."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management.base import CommandError

from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import platform_context
from billing.models import MarketAssignment, MarketStructure, Rate, RateCard
from billing.tests.support import CARD_HEADER, seed, write_csv

pytestmark = pytest.mark.django_db

SOURCE = "# source: a test card written by billing/tests (not Meta's figures)"


def _counts() -> tuple[int, int, int, int]:
    return (
        RateCard.objects.count(),
        Rate.objects.count(),
        MarketStructure.objects.count(),
        MarketAssignment.objects.count(),
    )


def test_the_shipped_cards_and_markets_load_with_their_sources():
    output = seed()
    cards = {(card.currency, card.effective_from.isoformat()): card for card in RateCard.objects.all()}
    assert set(cards) == {("USD", "2026-01-01"), ("INR", "2025-10-01"), ("EUR", "2026-07-01")}
    assert Rate.objects.count() == 105 + 105 + 123
    assert all(card.source and card.retrieved and len(card.sha256) == 64 for card in cards.values())
    assert cards[("USD", "2026-01-01")].rules["utility_free_in_service_window"] is True
    india = Rate.objects.get(card=cards[("USD", "2026-01-01")], market="India", category="MARKETING")
    assert india.price == Decimal("0.0118")
    assert [s.effective_from.isoformat() for s in MarketStructure.objects.order_by("effective_from")] == [
        "2025-10-01",
        "2026-07-01",
    ]
    assert MarketAssignment.objects.count() == 280
    assert "3 card(s) and 2 market structure(s) loaded (333 rates)" in output


def test_seeding_again_changes_nothing():
    seed()
    before = _counts(), list(RateCard.objects.values_list("pk", "loaded_at").order_by("pk"))
    with platform_context("test: audit"):
        audits = AuditEvent.objects.filter(action="billing.pricing_load").count()
    output = seed()
    assert (_counts(), list(RateCard.objects.values_list("pk", "loaded_at").order_by("pk"))) == before
    assert "0 card(s) and 0 market structure(s) loaded (0 rates); 5 unchanged." in output
    with platform_context("test: audit"):
        assert AuditEvent.objects.filter(action="billing.pricing_load").count() == audits == 1


def _good_card(tmp_path, name="good.csv", currency="USD", effective="2027-01-01"):
    return write_csv(
        tmp_path,
        name,
        [SOURCE, "# retrieved: 2026-11-26", CARD_HEADER]
        + [
            f"{effective},per_message,{currency},India,marketing,0.0118",
            f"{effective},per_message,{currency},Other,utility,0.0077",
        ],
    )


BAD_ROWS = [
    pytest.param(
        "2027-01-01,per_message,USD,India,newsletter,0.0118",
        "good.csv:4: unknown category 'newsletter'",
        id="unknown-category",
    ),
    pytest.param(
        "2027-01-01,per_message,USD,India,marketing,0,0118", "good.csv:4: 7 fields, expected 6", id="comma-decimal"
    ),
    pytest.param(
        "2027-01-01,per_message,USD,India,marketing,abc", "good.csv:4: rate 'abc' is not a decimal", id="bad-decimal"
    ),
    pytest.param("2027-01-01,per_message,USD,India,marketing,n/a", "leave the row out", id="meta-n/a-cell"),
    pytest.param(
        "2027-01-01,per_message,USD,India,marketing,-0.01", "good.csv:4: rate -0.01 is negative", id="negative"
    ),
    pytest.param("2027-01-01,per_message,USD,India,marketing,0.0000001", "more than six decimals", id="sub-micro"),
    pytest.param(
        "2027-01-01,per_message,EUR,India,marketing,0.0118",
        "good.csv:5: currency USD differs from EUR on line 4",
        id="mixed-currency",
    ),
    pytest.param(
        "2027-02-01,per_message,USD,India,marketing,0.0118",
        "good.csv:5: effective_date 2027-01-01 differs from 2027-02-01 on line 4",
        id="mixed-date",
    ),
    pytest.param(
        "2027-01-01,per_conversation,USD,India,marketing,0.0118",
        "good.csv:5: pricing_model per_message differs from per_conversation on line 4",
        id="mixed-model",
    ),
    pytest.param(
        "2027-13-01,per_message,USD,India,marketing,0.0118",
        "good.csv:4: effective_date '2027-13-01' is not a date",
        id="bad-date",
    ),
    pytest.param(
        "2027-01-01,per_message,USD,Other,utility,0.0080",
        "good.csv:6: duplicate rate for Other utility (first on line 4)",
        id="duplicate",
    ),
]


@pytest.mark.parametrize(("bad_row", "message"), BAD_ROWS)
def test_a_bad_row_is_refused_with_its_line_and_nothing_is_loaded(tmp_path, bad_row, message):
    seed()
    before = _counts()
    good = _good_card(tmp_path, name="other.csv", currency="BRL")
    bad = write_csv(
        tmp_path,
        "good.csv",
        [SOURCE, "# retrieved: 2026-11-26", CARD_HEADER, bad_row]
        + ["2027-01-01,per_message,USD,India,utility,0.0014", "2027-01-01,per_message,USD,Other,utility,0.0077"],
    )
    with pytest.raises(CommandError) as refused:
        seed("--file", str(good), "--file", str(bad))
    assert message in str(refused.value)
    assert refused.value.returncode == 1  # manage.py exits with 1
    assert "nothing was loaded" in str(refused.value)
    assert _counts() == before  # not even the good file


def test_a_missing_column_is_named_with_the_header_line(tmp_path):
    bad = write_csv(
        tmp_path,
        "card.csv",
        [SOURCE, "effective_date,currency,market,category,rate", "2027-01-01,USD,India,marketing,1"],
    )
    with pytest.raises(CommandError, match=r"card.csv:2: missing column\(s\) pricing_model"):
        seed("--file", str(bad))


def test_a_card_without_its_source_is_refused(tmp_path):
    bad = write_csv(tmp_path, "card.csv", [CARD_HEADER, "2027-01-01,per_message,USD,India,marketing,0.0118"])
    with pytest.raises(CommandError, match="no `# source:` line"):
        seed("--file", str(bad))
    assert RateCard.objects.count() == 0


def test_every_problem_of_a_file_is_listed_at_once(tmp_path):
    bad = write_csv(
        tmp_path,
        "card.csv",
        [
            SOURCE,
            CARD_HEADER,
            "2027-01-01,per_message,USD,India,newsletter,0.01",
            "2027-01-01,per_message,USD,Chile,marketing,-1",
        ],
    )
    with pytest.raises(CommandError) as refused:
        seed("--file", str(bad))
    assert "card.csv:3: unknown category" in str(refused.value)
    assert "card.csv:4: rate -1 is negative" in str(refused.value)
    assert "2 problem(s)" in str(refused.value)


def test_unknown_or_mistyped_rules_are_refused(tmp_path):
    bad = write_csv(
        tmp_path,
        "card.csv",
        [SOURCE, '# rules: {"utility_free_in_window": true, "service_free": "yes"}', CARD_HEADER]
        + ["2027-01-01,per_message,USD,India,marketing,0.0118"],
    )
    with pytest.raises(CommandError) as refused:
        seed("--file", str(bad))
    assert "card.csv:2: unknown rule 'utility_free_in_window'" in str(refused.value)
    assert "card.csv:2: rule 'service_free' must be a bool" in str(refused.value)


def test_a_partial_card_is_refused_unless_allowed_and_is_marked(tmp_path):
    partial = write_csv(
        tmp_path,
        "meta-USD-2025-07-01.partial.csv",
        [SOURCE, CARD_HEADER, "2025-07-01,per_message,USD,Argentina,marketing,0.0618"],
    )
    with pytest.raises(CommandError, match="a partial card"):
        seed("--file", str(partial))
    seed("--file", str(partial), "--allow-partial")
    assert RateCard.objects.get().is_partial


def test_a_different_file_for_a_loaded_version_needs_replace(tmp_path):
    seed("--file", str(_good_card(tmp_path)))
    changed = write_csv(
        tmp_path, "changed.csv", [SOURCE, CARD_HEADER, "2027-01-01,per_message,USD,India,marketing,0.0120"]
    )
    with pytest.raises(CommandError, match="already loaded from good.csv with other content"):
        seed("--file", str(changed))
    seed("--file", str(changed), "--replace")
    card = RateCard.objects.get()
    assert card.file_name == "changed.csv"
    assert list(card.rates.values_list("market", "price")) == [("India", Decimal("0.012000"))]


def test_markets_files_are_checked_too(tmp_path):
    bad = write_csv(
        tmp_path,
        "markets.csv",
        [
            SOURCE,
            "effective_date,country_code,market",
            "2027-01-01,IN,India",
            "2027-01-01,XX,Nowhere",
            "2027-01-01,IN,India",
        ],
    )
    with pytest.raises(CommandError) as refused:
        seed("--markets", str(bad))
    assert "markets.csv:4: 'XX' is not an ISO 3166 country code" in str(refused.value)
    assert "markets.csv:5: IN is listed twice (first on line 3)" in str(refused.value)
    assert MarketStructure.objects.count() == 0


def test_a_card_the_ledger_already_used_is_never_replaced(tmp_path, phone, pricing_data):
    # Given the shipped USD card priced a delivered message in alpha's ledger
    from billing.loading import shipped_rate_cards
    from billing.models import LedgerEntry
    from billing.tests.support import deliver_statuses, status

    deliver_statuses(phone, status("wamid.priced-by-the-card"))
    with platform_context("test"):
        assert LedgerEntry.all_tenants.filter(rate__card__currency="USD").exists()
    shipped = next(path for path in shipped_rate_cards() if "USD" in path.name)
    corrected = tmp_path / "corrected.csv"
    corrected.write_text(shipped.read_text().replace("0.0118", "0.0119"))
    before = list(Rate.objects.filter(card__currency="USD").order_by("pk").values_list("pk", "price"))
    # When staff load a corrected file over the same version with --replace
    with pytest.raises(CommandError) as refused:
        seed("--file", str(corrected), "--replace")
    # Then the command fails with exit code 1, says why, and the card keeps its rates
    assert refused.value.returncode == 1
    assert "already priced ledger entries and cannot be replaced" in str(refused.value)
    assert list(Rate.objects.filter(card__currency="USD").order_by("pk").values_list("pk", "price")) == before
