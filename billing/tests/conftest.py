"""Billing fixtures: the shipped rate cards and markets (alpha's `phone` is the shared one in conftest.py)."""

from __future__ import annotations

import pytest

from billing.tests.support import CARD_HEADER, seed, write_csv


@pytest.fixture
def pricing_data(db):
    """The rate cards and market structures shipped in billing/data (as `make run` loads them)."""
    seed()


@pytest.fixture
def conversation_card(tmp_path, pricing_data):
    """A per-conversation USD card from 2025-01-01 (test figures) and a market structure for India."""
    source = "# source: test figures written by billing/tests (not Meta's)"
    markets = write_csv(tmp_path, "m.csv", [source, "effective_date,country_code,market", "2025-01-01,IN,India"])
    card = write_csv(
        tmp_path,
        "c.csv",
        [source, CARD_HEADER, "2025-01-01,per_conversation,USD,India,marketing,0.0107"]
        + ["2025-01-01,per_conversation,USD,India,service,0.0040"],
    )
    seed("--markets", str(markets), "--file", str(card))
