"""The agent's Available / Away toggle (audited; round-robin skips away agents, see test_panel.py)
and the snooze times the side panel offers, in the workspace's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import tenant_context
from inbox import panel_rules, teamwork
from inbox.models import AgentStatus
from inbox.tests.panel_support import htmx_post

pytestmark = pytest.mark.django_db

LISBON = ZoneInfo("Europe/Lisbon")


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2025, 5, 12, 8, 0, tzinfo=UTC), datetime(2025, 5, 19, 9, 0, tzinfo=LISBON)),  # Monday: the next
        (datetime(2025, 5, 18, 20, 0, tzinfo=UTC), datetime(2025, 5, 19, 9, 0, tzinfo=LISBON)),  # Sunday: tomorrow
        (datetime(2025, 5, 14, 23, 30, tzinfo=UTC), datetime(2025, 5, 19, 9, 0, tzinfo=LISBON)),  # Wednesday
    ],
    ids=["monday", "sunday", "wednesday"],
)
def test_next_monday_morning(now, expected):
    assert panel_rules.snooze_until("monday", zone=LISBON, now=now) == expected


def test_tomorrow_morning_follows_the_workspace_date_not_utc():
    zone = ZoneInfo("Pacific/Auckland")
    now = datetime(2025, 5, 12, 13, 0, tzinfo=UTC)  # already 13 May, 01:00, in Auckland
    assert panel_rules.snooze_until("tomorrow", zone=zone, now=now) == datetime(2025, 5, 14, 9, 0, tzinfo=zone)


# --- availability


def test_an_agent_toggles_their_availability(alpha, login_client):
    client = login_client(alpha.agent)
    url = reverse("inbox:availability")
    assert "● Available" in client.get(url).content.decode()
    response = htmx_post(client, url)
    assert response.status_code == 200 and "○ Away" in response.content.decode()
    with tenant_context(alpha.tenant):
        assert not teamwork.is_available(alpha.agent.user)
        [audit] = AuditEvent.objects.filter(action="inbox.availability.set")
    assert audit.actor_id == alpha.agent.user_id and audit.metadata["available"] is False
    htmx_post(client, url)
    assert "● Available" in client.get(url).content.decode()


def test_a_viewer_has_no_availability(alpha, login_client):
    client = login_client(alpha.viewer)
    url = reverse("inbox:availability")
    assert client.get(url).content == b""
    assert client.post(url).status_code == 403
    with tenant_context(alpha.tenant):
        assert not AgentStatus.objects.exists()
