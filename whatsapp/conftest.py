"""Fixtures for WhatsApp tests: a real simulator server on a free port, and clients pointed at it."""

from __future__ import annotations

import pytest

from whatsapp.simulator import SimulatorServer, SimulatorState


@pytest.fixture
def simulator(settings):
    server = SimulatorServer(
        state=SimulatorState(review_seconds=0.2, delivery_delays=(0.05, 0.1)), app_secret=settings.META_APP_SECRET
    ).start()
    settings.META_GRAPH_BASE_URL = server.url
    yield server
    server.stop()


@pytest.fixture
def graph_client(simulator, settings):
    """A client for the sandbox WABA with fast retries (no real sleeping)."""
    from whatsapp.graph import GraphClient

    def make(**overrides):
        options = {"token": simulator.state.sandbox["token"], "backoff_base": 0, "backoff_cap": 0}
        options.update(overrides)
        return GraphClient(**options)

    return make
