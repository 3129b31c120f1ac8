"""A workspace's compliance settings: admins change them in the portal and the API (audited),
other roles read them, and a bad value is refused with the reason, changing nothing."""

import pytest

from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import platform_context, tenant_context
from compliance.policy import compliance_settings_for

pytestmark = pytest.mark.django_db

FORM = {
    "extra_opt_out_words": "basta, no more",
    "extra_opt_in_words": "",
    "opt_out_reply": "Done: no more messages.",
    "opt_in_reply": "Welcome back.",
    "block_utility_when_opted_out": "on",
    "quiet_hours_enabled": "on",
    "quiet_hours_start": "22:00",
    "quiet_hours_end": "08:00",
    "quiet_hours_categories": ["MARKETING", "UTILITY"],
    "marketing_cap_messages": "3",
    "marketing_cap_days": "7",
    "message_retention_days": "180",
}


def test_an_admin_changes_the_settings_in_the_portal_and_it_is_audited(alpha, login_client):
    response = login_client(alpha.admin).post("/compliance/settings/", FORM)
    assert response.status_code == 302
    with tenant_context(alpha.tenant):
        row = compliance_settings_for(alpha.tenant.pk)
    assert row.extra_opt_out_words == ["basta", "no more"]
    assert (row.quiet_hours_start.hour, row.quiet_hours_categories, row.message_retention_days) == (
        22,
        ["MARKETING", "UTILITY"],
        180,
    )
    with platform_context("test"):
        event = AuditEvent.all_tenants.get(action="compliance.settings_update")
    assert "extra_opt_out_words" in event.metadata["fields"]


def test_agents_read_but_cannot_change_them(alpha, login_client):
    agent = login_client(alpha.agent)
    assert "Only workspace admins change these" in agent.get("/compliance/settings/").content.decode()
    assert agent.post("/compliance/settings/", FORM).status_code == 403


def test_an_opt_in_word_that_is_an_opt_out_word_is_refused_and_nothing_changes(alpha, api_client_for):
    api = api_client_for(alpha.admin)
    refused = api.patch("/api/v1/compliance/settings/", {"extra_opt_in_words": ["stop"]}, format="json")
    assert refused.status_code == 400 and "opt-out word" in refused.json()["detail"]
    changed = api.patch("/api/v1/compliance/settings/", {"marketing_cap_messages": 5}, format="json")
    assert changed.status_code == 200 and changed.json()["marketing_cap_messages"] == 5
    assert api.get("/api/v1/compliance/settings/").json()["extra_opt_in_words"] == []
