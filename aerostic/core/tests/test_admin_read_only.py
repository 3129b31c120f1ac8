"""Platform console: alerts resolved through the service (audited); one read-only base for the
pages nobody edits."""

import pytest
from django.contrib import admin
from django.urls import reverse

from aerostic.core.admin_site import ReadOnlyAdmin
from aerostic.core.alerts import raise_alert
from aerostic.core.models import Alert, AuditEvent
from aerostic.core.tenant_context import platform_context
from aerostic.core.tests.admin_forms import staff_client


@pytest.mark.django_db
def test_staff_resolving_an_alert_is_audited(alpha):
    alert = raise_alert(tenant=alpha.tenant, key="token:1:expiring", title="Token expires soon")
    client = staff_client()
    response = client.post(
        reverse("admin:core_alert_changelist"), {"action": "resolve", "_selected_action": [str(alert.pk)]}
    )
    assert response.status_code == 302
    with platform_context("test"):
        assert Alert.all_tenants.get(pk=alert.pk).resolved_at is not None
        [event] = AuditEvent.all_tenants.filter(action="alert.resolved")
    assert event.tenant_id == alpha.tenant.pk and event.metadata == {"key": "token:1:expiring"}


@pytest.mark.parametrize(
    "label",
    ["contacts.Contact", "contacts.ContactImport", "billing.RateCard", "billing.LedgerEntry", "core.AuditEvent"],
)
def test_read_only_pages_share_one_base_that_refuses_every_change(label):
    from django.apps import apps

    model_admin = admin.site._registry[apps.get_model(label)]
    assert isinstance(model_admin, ReadOnlyAdmin)
    assert not model_admin.has_add_permission(None)
    assert not model_admin.has_change_permission(None)
    assert not model_admin.has_delete_permission(None)
