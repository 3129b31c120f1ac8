"""Billing fixtures: the shipped rate cards and markets, and alpha's connected sandbox number."""

from __future__ import annotations

import pytest

from billing.tests.support import seed
from campaigns.tests.support import sandbox_phone


@pytest.fixture
def pricing_data(db):
    """The rate cards and market structures shipped in billing/data (as `make run` loads them)."""
    seed()


@pytest.fixture
def phone(alpha, connected):
    return sandbox_phone(alpha, connected)
