"""Platform console edits of a phone number (tier, send-rate cap, active) go through the service."""

import pytest
from django.urls import reverse

from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import platform_context, tenant_context
from aerostic.core.tests.admin_forms import change_form_data, messages_of, staff_client
from whatsapp.models import PhoneNumber, WhatsAppAccount

pytestmark = pytest.mark.django_db


@pytest.fixture
def phone(alpha) -> PhoneNumber:
    with tenant_context(alpha.tenant):
        account = WhatsAppAccount.objects.create(waba_id="209000000000001", name="Alpha")
        return PhoneNumber.objects.create(
            account=account, phone_number_id="109000000000001", display_phone_number="+1 555 010 0100"
        )


def _reload(phone: PhoneNumber) -> PhoneNumber:
    with platform_context("test"):
        return PhoneNumber.all_tenants.get(pk=phone.pk)


def test_staff_phone_number_edit_is_audited(phone):
    client = staff_client()
    url = reverse("admin:whatsapp_phonenumber_change", args=[phone.pk])
    data = {**change_form_data(client.get(url)), "send_rate_limit": "20", "messaging_limit_tier": "TIER_10K"}
    data.pop("is_active")
    assert client.post(url, data).status_code == 302
    phone = _reload(phone)
    assert (phone.send_rate_limit, phone.messaging_limit_tier, phone.is_active) == (20, "TIER_10K", False)
    with platform_context("test"):
        [event] = AuditEvent.all_tenants.filter(action="whatsapp.phone_number_updated")
    assert event.tenant_id == phone.tenant_id
    assert event.metadata["changes"]["is_active"] == ["True", "False"]


def test_staff_phone_number_edit_refused_by_the_service_changes_nothing(phone):
    client = staff_client()
    url = reverse("admin:whatsapp_phonenumber_change", args=[phone.pk])
    data = {**change_form_data(client.get(url)), "send_rate_limit": "5000", "messaging_limit_tier": "TIER_10K"}
    response = client.post(url, data, follow=True)
    assert any("between 1 and 1,000" in message for message in messages_of(response))
    assert _reload(phone).messaging_limit_tier == ""
