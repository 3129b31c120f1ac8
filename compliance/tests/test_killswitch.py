"""Kill-switches: global and per tenant, audited, read by the future dispatcher."""

import pytest
from django.core.exceptions import ValidationError

from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import platform_context
from compliance.selectors import sending_allowed
from compliance.services import platform_sending_set, tenant_sending_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    from accounts.models import User

    return User.objects.create_superuser(email="ops@platform.test", password="a-long-passphrase-1")


def test_sending_is_allowed_by_default(alpha):
    assert sending_allowed(alpha.tenant.pk).allowed


def test_global_switch_stops_every_tenant_with_the_reason(alpha, bravo, staff):
    platform_sending_set(enabled=False, reason="Meta incident", actor=staff)
    for workspace in (alpha, bravo):
        decision = sending_allowed(workspace.tenant.pk)
        assert not decision.allowed and "Meta incident" in decision.reason


def test_tenant_switch_stops_only_that_tenant(alpha, bravo, staff):
    tenant_sending_set(tenant=alpha.tenant, enabled=False, reason="Spam complaints", actor=staff)
    assert not sending_allowed(alpha.tenant.pk).allowed
    assert sending_allowed(bravo.tenant.pk).allowed


def test_stopping_needs_a_reason(alpha, staff):
    with pytest.raises(ValidationError):
        tenant_sending_set(tenant=alpha.tenant, enabled=False, reason=" ", actor=staff)
    assert sending_allowed(alpha.tenant.pk).allowed


def test_flips_are_audited(alpha, staff):
    platform_sending_set(enabled=False, reason="Incident", actor=staff)
    platform_sending_set(enabled=True, reason="", actor=staff)
    tenant_sending_set(tenant=alpha.tenant, enabled=False, reason="Abuse", actor=staff)
    with platform_context("test"):
        actions = list(AuditEvent.all_tenants.order_by("id").values_list("action", "tenant_id"))
    assert actions == [
        ("killswitch.platform_off", None),
        ("killswitch.platform_on", None),
        ("killswitch.tenant_off", alpha.tenant.pk),
    ]


def test_platform_wide_events_are_invisible_to_tenants(alpha, staff, api_client_for):
    platform_sending_set(enabled=False, reason="Incident", actor=staff)
    response = api_client_for(alpha.admin).get("/api/v1/audit/events/?action=killswitch")
    assert response.json()["results"] == []


def test_suspended_tenant_cannot_send(alpha):
    alpha.tenant.status = "suspended"
    alpha.tenant.save()
    assert not sending_allowed(alpha.tenant.pk).allowed


def test_admin_console_flip_goes_through_the_audited_service(alpha, staff):
    from django.test import Client

    client = Client()
    client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(
        f"/admin/tenants/tenant/{alpha.tenant.pk}/change/",
        {
            "name": "Alpha",
            "slug": "alpha",
            "status": "active",
            "sending_disabled_reason": "Abuse report",
            "messages_per_minute": 600,
            "campaign_sends_per_day": 10000,
            "timezone": "UTC",
            "default_country": "US",
            "tenants_membership_set-TOTAL_FORMS": 0,
            "tenants_membership_set-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    decision = sending_allowed(alpha.tenant.pk)
    assert not decision.allowed and "Abuse report" in decision.reason
    with platform_context("test"):
        assert AuditEvent.all_tenants.filter(action="killswitch.tenant_off", actor=staff).exists()
