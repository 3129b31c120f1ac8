"""Platform console edits of a workspace's compliance settings go through the service."""

import pytest
from django.urls import reverse

from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import platform_context, tenant_context
from aerostic.core.tests.admin_forms import change_form_data, messages_of, staff_client
from compliance.models import ComplianceSettings
from compliance.policy import compliance_settings_for

pytestmark = pytest.mark.django_db


def _settings_row(tenant) -> ComplianceSettings:
    with tenant_context(tenant):
        return compliance_settings_for(tenant.pk)


def test_staff_compliance_settings_edit_is_audited(alpha):
    row = _settings_row(alpha.tenant)
    client = staff_client()
    url = reverse("admin:compliance_compliancesettings_change", args=[row.pk])
    data = {**change_form_data(client.get(url)), "marketing_cap_messages": "5"}
    assert client.post(url, data).status_code == 302
    assert _settings_row(alpha.tenant).marketing_cap_messages == 5
    with platform_context("test"):
        [event] = AuditEvent.all_tenants.filter(action="compliance.settings_update")
    assert event.tenant_id == alpha.tenant.pk and event.metadata["fields"] == ["marketing_cap_messages"]


def test_staff_compliance_settings_edit_refused_by_the_service_changes_nothing(alpha):
    row = _settings_row(alpha.tenant)
    client = staff_client()
    url = reverse("admin:compliance_compliancesettings_change", args=[row.pk])
    data = {**change_form_data(client.get(url)), "marketing_cap_days": "0", "marketing_cap_messages": "5"}
    response = client.post(url, data, follow=True)
    assert any("at least one day" in message for message in messages_of(response))
    assert _settings_row(alpha.tenant).marketing_cap_messages == 2
    with platform_context("test"):
        assert not AuditEvent.all_tenants.filter(action="compliance.settings_update").exists()
