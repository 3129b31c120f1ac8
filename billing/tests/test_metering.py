"""Metering from status webhooks, end to end through the real intake and worker path: each billable
message or conversation is charged exactly once, free ones are on record at zero, what cannot be
priced is kept with its reason (and priced later), and the ledger cannot be rewritten."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from aerostic.core.tenant_context import tenant_context
from billing.models import LedgerEntry, PricingType, UnpricedUsage, UsageCounter
from billing.services import unpriced_usage_reprice
from billing.tests.support import CARD_HEADER, HONG_KONG, US, conversation, deliver_statuses, seed, status, write_csv

pytestmark = pytest.mark.django_db

WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA="


def _ledger(member) -> list[LedgerEntry]:
    with tenant_context(member.tenant):
        return list(LedgerEntry.objects.order_by("pk"))


def _counters(member) -> dict[tuple[str, str], tuple[int, int, int]]:
    with tenant_context(member.tenant):
        return {(c.kind, c.category): (c.count, c.free_count, c.amount_micros) for c in UsageCounter.objects.all()}


def _unpriced(member) -> list[UnpricedUsage]:
    with tenant_context(member.tenant):
        return list(UnpricedUsage.objects.order_by("pk"))


def test_a_redelivered_status_webhook_charges_once(alpha, phone, pricing_data):
    delivered = status(WAMID, "delivered")
    deliver_statuses(phone, delivered)
    deliver_statuses(phone, delivered)  # Meta retries the same webhook

    [entry] = _ledger(alpha)
    assert (entry.kind, entry.amount_micros, entry.currency) == ("debit", -11_800, "USD")
    assert (entry.reference, entry.market, entry.country, entry.category) == (
        f"message:{WAMID}",
        "India",
        "IN",
        "MARKETING",
    )
    assert entry.rate.price == Decimal("0.0118") and entry.phone_number_id == phone.pk
    assert entry.billing_cycle == entry.occurred_at.date().replace(day=1)
    assert _counters(alpha) == {("messages", "MARKETING"): (1, 0, 11_800)}


def test_sent_delivered_and_read_each_with_pricing_charge_once(alpha, phone, pricing_data):
    deliver_statuses(phone, status(WAMID, "sent"))
    assert _ledger(alpha) == []  # per-message pricing charges delivered messages only
    deliver_statuses(phone, status(WAMID, "delivered"), status(WAMID, "read"))
    deliver_statuses(phone, status(WAMID, "read"))
    assert [entry.amount_micros for entry in _ledger(alpha)] == [-11_800]
    assert _counters(alpha)[("messages", "MARKETING")] == (1, 0, 11_800)


def test_a_read_status_charges_when_the_delivered_one_never_came(alpha, phone, pricing_data):
    deliver_statuses(phone, status(WAMID, "read", recipient=US, category="utility"))
    [entry] = _ledger(alpha)
    assert (entry.market, entry.category, entry.amount_micros) == ("North America", "UTILITY", -3_400)


@pytest.mark.parametrize(
    ("category", "pricing_type"),
    [
        pytest.param("service", "free_customer_service", id="service-reply"),
        pytest.param("utility", "free_customer_service", id="utility-inside-window"),
        pytest.param("marketing", "free_entry_point", id="entry-point"),
    ],
)
def test_free_messages_are_on_the_ledger_at_zero(alpha, phone, pricing_data, category, pricing_type):
    deliver_statuses(phone, status(WAMID, category=category, pricing_type=pricing_type))
    deliver_statuses(phone, status(WAMID, "read", category=category, pricing_type=pricing_type))
    [entry] = _ledger(alpha)
    assert (entry.amount_micros, entry.pricing_type, entry.rate) == (0, pricing_type, None)
    assert _counters(alpha) == {("messages", category.upper()): (1, 1, 0)}


def test_a_failed_message_costs_nothing(alpha, phone, pricing_data):
    deliver_statuses(
        phone, status(WAMID, "sent"), {**status(WAMID, "failed", category=None), "errors": [{"code": 131026}]}
    )
    assert _ledger(alpha) == [] and _unpriced(alpha) == []


# --- unpriced: never a crash, never a guess


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        pytest.param(status(WAMID, category=None), "no_pricing", id="no-pricing-object"),
        pytest.param(status(WAMID, category="marketing_lite"), "unknown_category", id="unknown-category"),
        pytest.param(status(WAMID, model="XYZ"), "unknown_model", id="unknown-model"),
        pytest.param(status(WAMID, pricing_type="premium"), "unknown_type", id="unknown-type"),
        pytest.param(status(WAMID, recipient=HONG_KONG), "no_rate", id="market-not-on-the-card"),
        pytest.param(status(WAMID, at=datetime(2025, 11, 5, tzinfo=UTC)), "no_card", id="no-card-for-the-date"),
        pytest.param(
            {**status(WAMID), "recipient_id": "", "recipient_user_id": "user.93737"}, "no_country", id="bsuid"
        ),
        pytest.param(status(WAMID, model="CBP"), "no_conversation", id="cbp-without-conversation"),
    ],
)
def test_what_cannot_be_priced_is_kept_with_the_reason(alpha, phone, pricing_data, item, reason):
    event = deliver_statuses(phone, item)
    deliver_statuses(phone, item)
    [row] = _unpriced(alpha)
    assert (row.reason, row.wamid, row.status, row.resolved_at) == (reason, WAMID, "delivered", None)
    assert row.detail
    assert _ledger(alpha) == [] and _counters(alpha) == {}
    assert event.outcome  # processed, not dead-lettered


def test_a_later_status_with_pricing_resolves_the_unpriced_one(alpha, phone, pricing_data):
    deliver_statuses(phone, status(WAMID, category=None))
    deliver_statuses(phone, status(WAMID, "read"))
    [row] = _unpriced(alpha)
    assert row.resolved_at is not None
    assert [entry.amount_micros for entry in _ledger(alpha)] == [-11_800]


def test_unpriced_usage_is_priced_once_the_missing_card_is_loaded(alpha, phone, pricing_data, tmp_path):
    november = datetime(2025, 11, 5, tzinfo=UTC)
    deliver_statuses(phone, status(WAMID, at=november))
    card = write_csv(
        tmp_path,
        "usd-2025-10-01.csv",
        [
            "# source: test figures written by billing/tests",
            CARD_HEADER,
            "2025-10-01,per_message,USD,India,marketing,0.0107",
        ],
    )
    seed("--file", str(card))

    assert unpriced_usage_reprice(tenant=alpha.tenant, actor=alpha.admin.user) == {"charged": 1}
    assert unpriced_usage_reprice(tenant=alpha.tenant) == {}
    [entry] = _ledger(alpha)
    assert (entry.amount_micros, entry.occurred_at, entry.billing_cycle.isoformat()) == (
        -10_700,
        november,
        "2025-11-01",
    )
    assert _unpriced(alpha)[0].resolved_at is not None


# --- per-conversation pricing (before 2025-07-01), on a test card


def test_a_conversation_is_charged_once_for_all_its_messages(alpha, phone, conversation_card):
    june = datetime(2025, 6, 15, 10, tzinfo=UTC)
    first, second = "wamid.first", "wamid.second"
    shared = conversation("72b14d6bd5407799e66f64d1b338e567")
    deliver_statuses(
        phone,
        status(first, "sent", at=june, model="CBP", pricing_type=None, billable=True, conversation=shared),
        status(first, "delivered", at=june, model="CBP", pricing_type=None, billable=True, conversation=shared),
        status(second, "delivered", at=june, model="CBP", pricing_type=None, billable=True, conversation=shared),
    )
    deliver_statuses(
        phone, status("wamid.third", at=june, model="CBP", pricing_type=None, conversation=conversation("another"))
    )
    entries = _ledger(alpha)
    assert [(e.reference, e.amount_micros, e.pricing_model) for e in entries] == [
        ("conversation:72b14d6bd5407799e66f64d1b338e567", -10_700, "per_conversation"),
        ("conversation:another", -10_700, "per_conversation"),
    ]
    assert _counters(alpha) == {("conversations", "MARKETING"): (2, 0, 21_400)}


def test_a_conversation_meta_did_not_bill_is_free(alpha, phone, conversation_card):
    june = datetime(2025, 6, 15, 10, tzinfo=UTC)
    deliver_statuses(
        phone,
        status(
            "w1",
            at=june,
            model="CBP",
            category="service",
            pricing_type=None,
            billable=False,
            conversation=conversation("c1", "service"),
        ),
        status(
            "w2",
            at=june,
            model="CBP",
            category="referral_conversion",
            pricing_type=None,
            billable=False,
            conversation=conversation("c2", "referral_conversion"),
        ),
    )
    assert [(e.amount_micros, e.pricing_type) for e in _ledger(alpha)] == [
        (0, PricingType.FREE_TIER),
        (0, PricingType.FREE_ENTRY_POINT),
    ]


# --- the ledger cannot be rewritten


def _raw(sql: str, params: list) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_ledger_refuses_update_and_delete(alpha, phone, pricing_data):
    deliver_statuses(phone, status(WAMID))
    [entry] = _ledger(alpha)
    with tenant_context(alpha.tenant):
        with pytest.raises(DatabaseError, match="append-only"):
            _raw("UPDATE billing_ledgerentry SET amount_micros = 0 WHERE id = %s", [entry.pk])
        with pytest.raises(DatabaseError, match="append-only"):
            _raw("DELETE FROM billing_ledgerentry WHERE id = %s", [entry.pk])
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            LedgerEntry.objects.filter(pk=entry.pk).update(description="edited")
        # A deleted number (or campaign, or user) only detaches: its foreign key becomes NULL.
        _raw("UPDATE billing_ledgerentry SET phone_number_id = NULL WHERE id = %s", [entry.pk])
        with pytest.raises(DatabaseError, match="append-only"):
            _raw("UPDATE billing_ledgerentry SET phone_number_id = %s WHERE id = %s", [phone.pk, entry.pk])
    [after] = _ledger(alpha)
    assert (after.amount_micros, after.description, after.phone_number_id) == (-11_800, entry.description, None)


def test_one_tenant_never_sees_another_tenants_ledger(alpha, bravo, phone, pricing_data):
    deliver_statuses(phone, status(WAMID))
    assert len(_ledger(alpha)) == 1 and _ledger(bravo) == []
    with tenant_context(bravo.tenant), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM billing_ledgerentry")
        assert cursor.fetchone()[0] == 0


def test_a_workspace_erase_removes_its_billing_rows_despite_the_append_only_ledger(alpha, phone, pricing_data):
    from compliance.privacy import tenant_erase, tenant_rows_remaining

    deliver_statuses(phone, status(WAMID), status("wamid.unpriced", category=None))
    assert len(_ledger(alpha)) == 1 and len(_unpriced(alpha)) == 1
    tenant_id = alpha.tenant.pk
    assert tenant_erase(tenant_id=tenant_id, force=True)["erased"]
    remaining = tenant_rows_remaining(tenant_id)
    assert all(remaining[table] == 0 for table in remaining if table.startswith("billing_"))
