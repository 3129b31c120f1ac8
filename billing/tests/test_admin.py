"""The platform console for billing: rate cards with their rates, every workspace's ledger and
unpriced usage (with the reason), the "Reprice now" action, and profile changes through the service."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import platform_context, tenant_context
from billing.models import BillingProfile, LedgerEntry, RateCard, UnpricedUsage
from billing.tests.support import CARD_HEADER, US, deliver_statuses, seed, status, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(db):
    user = User.objects.create_superuser(email="ops@platform.test", password="a-long-passphrase-1")
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_rate_card_page_lists_its_rates_read_only(staff_client, pricing_data):
    card = RateCard.objects.get(currency="USD")
    response = staff_client.get(reverse("admin:billing_ratecard_change", args=[card.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "India" in body and "0.011800" in body and 'name="_save"' not in body


def test_ledger_lists_every_workspace(staff_client, alpha, phone, pricing_data):
    deliver_statuses(phone, status("wamid.admin-ledger"))
    response = staff_client.get(reverse("admin:billing_ledgerentry_changelist") + "?q=wamid.admin-ledger")
    assert response.status_code == 200 and "message:wamid.admin-ledger" in response.content.decode()
    with platform_context("test"):
        entry = LedgerEntry.all_tenants.get()
    assert staff_client.get(reverse("admin:billing_ledgerentry_change", args=[entry.pk])).status_code == 200


def test_unpriced_usage_shows_the_reason_and_reprice_now_prices_it(staff_client, alpha, phone, pricing_data, tmp_path):
    # a US message before any USD card was in force: unpriced, "No rate card for the date"
    deliver_statuses(phone, status("wamid.admin-early", recipient=US, at=_before_the_card()))
    listing = staff_client.get(reverse("admin:billing_unpricedusage_changelist")).content.decode()
    assert "wamid.admin-early" in listing and "No rate card for the date" in listing

    card = write_csv(
        tmp_path,
        "usd-2025-10-01.csv",
        [
            "# source: test figures written by billing/tests",
            CARD_HEADER,
            "2025-10-01,per_message,USD,North America,marketing,0.0250",
            "2025-10-01,per_message,USD,North America,utility,0.0034",
        ],
    )
    seed("--file", str(card), "--allow-partial")
    with platform_context("test"):
        row = UnpricedUsage.all_tenants.get()
    response = staff_client.post(
        reverse("admin:billing_unpricedusage_changelist"),
        {"action": "reprice", "_selected_action": [row.pk]},
        follow=True,
    )
    assert response.status_code == 200
    with tenant_context(alpha.tenant):
        assert LedgerEntry.objects.filter(wamid="wamid.admin-early").count() == 1
        assert UnpricedUsage.objects.get().resolved_at is not None
        assert AuditEvent.objects.filter(action="billing.unpriced_reprice").exists()


def _before_the_card():
    from datetime import UTC, datetime

    return datetime(2025, 11, 3, 12, 0, tzinfo=UTC)


def test_profile_changes_go_through_the_service(staff_client, alpha):
    from billing.services import billing_profile_ensure

    profile = billing_profile_ensure(tenant=alpha.tenant)
    url = reverse("admin:billing_billingprofile_change", args=[profile.pk])
    assert staff_client.get(url).status_code == 200
    response = staff_client.post(
        url, {"currency": "EUR", "prepaid": "on", "credit_limit_micros": "5000000", "cycle_day": "15"}
    )
    assert response.status_code == 302
    with tenant_context(alpha.tenant):
        saved = BillingProfile.objects.get()
        assert (saved.currency, saved.prepaid, saved.credit_limit_micros, saved.cycle_day) == (
            "EUR",
            True,
            5_000_000,
            15,
        )
        assert AuditEvent.objects.filter(action="billing.profile_update").count() == 1


def test_a_refused_profile_change_says_why_and_saves_nothing(staff_client, alpha, phone, pricing_data):
    deliver_statuses(phone, status("wamid.admin-locked"))
    with tenant_context(alpha.tenant):
        profile = BillingProfile.objects.get()
    url = reverse("admin:billing_billingprofile_change", args=[profile.pk])
    response = staff_client.post(url, {"currency": "EUR", "credit_limit_micros": "0", "cycle_day": "1"}, follow=True)
    assert "cannot change once the ledger has entries" in response.content.decode()
    with tenant_context(alpha.tenant):
        assert BillingProfile.objects.get().currency == "USD"
