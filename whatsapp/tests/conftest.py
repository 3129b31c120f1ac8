"""Fixtures shared by the WhatsApp tests."""

import time

import pytest


@pytest.fixture
def one_rate_minute():
    """The webhook limit counts per wall-clock minute: a test that needs several requests in the
    same window starts early in a minute rather than fail when the key rolls over mid-test."""
    if time.time() % 60 > 50:
        time.sleep(60.5 - time.time() % 60)
