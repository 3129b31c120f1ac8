"""Metering a batch of statuses (`usage_record_from_statuses`: the webhook drainer calls it once per
number with every status of that number in a drained batch): the same outcome, position by position,
and the same rows as metering each status alone in order, in a number of statements that does not
grow with the batch."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from aerostic.core.tenant_context import tenant_context
from billing.models import BillingProfile, LedgerEntry, RateCard, UnpricedUsage, UsageCounter
from billing.services import billing_profile_update, usage_record_from_status, usage_record_from_statuses
from billing.tests.support import HONG_KONG, US, conversation, status
from campaigns.engine.constants import CALLBACK_PREFIX
from campaigns.models import CampaignMessage
from campaigns.tests.support import approved_template, audience, draft, launch
from whatsapp import fanout

pytestmark = pytest.mark.django_db

NOVEMBER = datetime(2026, 11, 20, 9, tzinfo=UTC)  # per-message: the shipped USD card and markets
JUNE_2025 = datetime(2025, 6, 15, 10, tzinfo=UTC)  # per-conversation: the test card (conversation_card)


def _rows() -> dict[str, Any]:
    """Everything metering writes, without ids and write times (compared across rolled-back runs)."""
    ledger = LedgerEntry.objects.values_list(
        "reference",
        "wamid",
        "kind",
        "amount_micros",
        "currency",
        "category",
        "market",
        "country",
        "pricing_model",
        "pricing_type",
        "rate_id",
        "billing_cycle",
        "occurred_at",
        "campaign_id",
        "phone_number_id",
        "description",
    )
    counters = UsageCounter.objects.values_list(
        "billing_cycle", "kind", "category", "count", "free_count", "amount_micros"
    )
    unpriced = [
        (
            row.reference,
            row.wamid,
            row.status,
            row.reason,
            row.detail,
            json.dumps(row.pricing, sort_keys=True),
            json.dumps(row.conversation, sort_keys=True),
            row.country,
            row.campaign_id,
            row.phone_number_id,
            row.occurred_at,
            row.resolved_at is not None,
        )
        for row in UnpricedUsage.objects.all()
    ]
    return {
        "ledger": sorted(ledger),
        "counters": sorted(counters),
        "unpriced": sorted(unpriced),
        "balance": list(BillingProfile.objects.values_list("prepaid", "balance_micros")),
    }


def _metered(member: Any, run: Callable[[], Any]) -> tuple[Any, dict[str, Any]]:
    """Runs `run` in the tenant's context and returns what it returned and the rows it left, then
    rolls it all back (so the next run starts from the same state)."""
    with tenant_context(member.tenant), transaction.atomic():
        outcomes = run()
        rows = _rows()
        transaction.set_rollback(True)
    return outcomes, rows


def _one_by_one(statuses: list[dict[str, Any]], phone: Any) -> list[str]:
    return [usage_record_from_status(status=item, phone=phone) for item in statuses]


@pytest.fixture
def campaign_messages(alpha, phone, simulator, connected):
    """Two recipients (India contacts) of a launched campaign: the first reported by its callback
    data, the second found by its wamid. Returns (campaign id, first message id)."""
    template = approved_template(simulator, alpha, connected, name="spring_sale", category="MARKETING")
    campaign = launch(alpha, draft(alpha, phone, template, audience(alpha, 2)))
    with tenant_context(alpha.tenant):
        first, second = CampaignMessage.objects.filter(campaign=campaign).order_by("pk").values_list("pk", flat=True)
        CampaignMessage.objects.filter(pk=second).update(wamid="wamid.campaign-by-wamid")
    return campaign.pk, first


@pytest.fixture
def pricing_rules(conversation_card):
    """One free service conversation a month on the per-conversation card (so the second one in a
    batch is charged), and a USD per-message card whose rules break pricing for statuses that do not
    say Meta's pricing type (the "error" reason: a bug in pricing must not stop the others)."""
    RateCard.objects.filter(pricing_model="per_conversation").update(rules={"service_free_monthly_allowance": 1})
    RateCard.objects.filter(pricing_model="per_message", currency="USD").update(
        rules={"free_entry_point_hours": "seventy-two"}
    )


def _cbp(wamid: str, conversation_id: str, **options: Any) -> dict[str, Any]:
    category = options.pop("category", "marketing")
    return status(
        wamid,
        at=JUNE_2025,
        model="CBP",
        category=category,
        pricing_type=None,
        conversation=conversation(conversation_id, category),
        **options,
    )


def _table(campaign_message_id: int) -> list[tuple[dict[str, Any], str]]:
    at = {"at": NOVEMBER}
    return [
        # per message
        (status("wamid.charged", **at), "charged"),
        (status("wamid.charged", "read", **at), "duplicate"),  # same message, same reference
        (status("wamid.charged", "sent", **at), "ignored"),
        (status("wamid.charged", category=None, **at), "duplicate"),  # unpriced, but already on the ledger
        (status("wamid.free", category="service", pricing_type="free_customer_service", **at), "free"),
        (status("wamid.late", category=None, **at), "unpriced"),  # no pricing, then a read that has it
        (status("wamid.bare", "read", category=None, **at), "ignored"),
        (status("wamid.lite", category="marketing_lite", **at), "unpriced"),
        (status("wamid.xyz", model="XYZ", **at), "unpriced"),
        (status("wamid.premium", pricing_type="premium", **at), "unpriced"),
        (status("wamid.hk", recipient=HONG_KONG, **at), "unpriced"),
        ({**status("wamid.bsuid", **at), "recipient_id": "", "recipient_user_id": "user.1"}, "unpriced"),
        (status("wamid.cbp", model="CBP", **at), "unpriced"),  # per conversation without a conversation
        (status("wamid.bug", pricing_type=None, **at), "unpriced"),  # the card's rules raise: "error"
        (status("wamid.us", "read", recipient=US, category="utility", **at), "charged"),
        (status("wamid.late", "read", **at), "charged"),
        # callback data naming no row ("²" passes str.isdigit): the message is found by its wamid
        (status("wamid.odd-callback", callback=f"{CALLBACK_PREFIX}\u00b2", **at), "charged"),
        ({**status("wamid.failed", "failed", category=None, **at), "errors": [{"code": 131026}]}, "ignored"),
        ({"status": "delivered"}, "ignored"),
        # per conversation
        (_cbp("wamid.c1", "conv-marketing", billable=True), "charged"),
        (_cbp("wamid.c2", "conv-marketing", billable=True), "duplicate"),  # same conversation
        (_cbp("wamid.s1", "conv-service-1", category="service"), "free"),  # the month's free one
        (_cbp("wamid.s2", "conv-service-2", category="service"), "charged"),  # counts s1 from this batch
        (_cbp("wamid.s2", "conv-service-2", category="service"), "duplicate"),
        (_cbp("wamid.e1", "conv-entry", category="referral_conversion", billable=False), "free"),
        # one message Meta reported under both models: its charge resolves the conversation's row,
        # which a later status of that conversation no longer updates
        (_cbp("wamid.both", "conv-lite", category="marketing_lite"), "unpriced"),
        (status("wamid.both", "read", **at), "charged"),
        (_cbp("wamid.other", "conv-lite", category="marketing_lite", name="read"), "unpriced"),
        # a campaign's recipient: the contact's country when the status has no number
        (status("wamid.campaign", recipient="", callback=f"{CALLBACK_PREFIX}{campaign_message_id}", **at), "charged"),
        (status("wamid.campaign-by-wamid", recipient="", **at), "charged"),
        (status("wamid.no-such-recipient", recipient="", callback=f"{CALLBACK_PREFIX}999999999", **at), "unpriced"),
    ]


def test_a_batch_meters_like_one_status_at_a_time(alpha, phone, pricing_rules, campaign_messages):
    campaign_id, first_message = campaign_messages
    table = _table(first_message)
    statuses, expected = [item for item, _ in table], [outcome for _, outcome in table]

    one_by_one, rows_one_by_one = _metered(alpha, lambda: _one_by_one(statuses, phone))
    batch, rows = _metered(alpha, lambda: usage_record_from_statuses(statuses=statuses, phone=phone))

    assert one_by_one == expected
    assert batch == expected
    assert rows == rows_one_by_one
    ledger = {row[0]: (row[3], row[7], row[13]) for row in rows["ledger"]}  # reference: amount, country, campaign
    assert ledger == {
        "message:wamid.charged": (-11_800, "IN", None),
        "message:wamid.free": (0, "IN", None),
        "message:wamid.us": (-3_400, "US", None),
        "message:wamid.late": (-11_800, "IN", None),
        "conversation:conv-marketing": (-10_700, "IN", None),
        "conversation:conv-service-1": (0, "IN", None),
        "conversation:conv-service-2": (-4_000, "IN", None),
        "conversation:conv-entry": (0, "IN", None),
        "message:wamid.campaign": (-11_800, "IN", campaign_id),
        "message:wamid.campaign-by-wamid": (-11_800, "IN", campaign_id),
        "message:wamid.both": (-11_800, "IN", None),
        "message:wamid.odd-callback": (-11_800, "IN", None),
    }
    reasons = {wamid: (reason, resolved) for _, wamid, _, reason, *_, resolved in rows["unpriced"]}
    assert reasons == {
        "wamid.late": ("no_pricing", True),
        "wamid.lite": ("unknown_category", False),
        "wamid.xyz": ("unknown_model", False),
        "wamid.premium": ("unknown_type", False),
        "wamid.hk": ("no_rate", False),
        "wamid.bsuid": ("no_country", False),
        "wamid.cbp": ("no_conversation", False),
        "wamid.bug": ("error", False),
        "wamid.both": ("unknown_category", True),
        "wamid.no-such-recipient": ("no_country", False),
    }


def test_billing_prices_the_recipients_the_campaigns_consumer_read_for_the_batch(
    alpha, phone, pricing_rules, campaign_messages
):
    """Through the status fan-out, campaigns and billing share one read of the campaign recipients,
    and billing charges exactly what it charges reading them itself."""
    _, first_message = campaign_messages
    statuses = [item for item, _ in _table(first_message)]

    def fanned_out() -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            fanout.statuses_received(phone=phone, statuses=statuses)
        return [
            query["sql"]
            for query in queries
            if "campaigns_campaignmessage" in query["sql"] and query["sql"].lstrip().upper().startswith("SELECT")
        ]

    _, rows_alone = _metered(alpha, lambda: usage_record_from_statuses(statuses=statuses, phone=phone))
    reads, rows = _metered(alpha, fanned_out)

    assert len(reads) == 1, "\n".join(reads)
    assert rows == rows_alone
    assert {row[0]: row[13] for row in rows["ledger"]}["message:wamid.campaign-by-wamid"] is not None


def test_a_batch_metered_again_changes_nothing_twice(alpha, phone, pricing_rules, campaign_messages):
    statuses = [item for item, _ in _table(campaign_messages[1])]

    def twice_one_by_one() -> list[str]:
        _one_by_one(statuses, phone)
        return _one_by_one(statuses, phone)

    def twice_in_batches() -> list[str]:
        usage_record_from_statuses(statuses=statuses, phone=phone)
        return usage_record_from_statuses(statuses=statuses, phone=phone)

    expected, rows_one_by_one = _metered(alpha, twice_one_by_one)
    again, rows = _metered(alpha, twice_in_batches)

    assert again == expected
    assert rows == rows_one_by_one
    assert not {"charged", "free"} & set(again)  # what was on the ledger is a duplicate now


def test_a_batch_split_anywhere_leaves_the_same_rows(alpha, phone, pricing_rules, campaign_messages):
    statuses = [item for item, _ in _table(campaign_messages[1])]
    whole, rows_whole = _metered(alpha, lambda: usage_record_from_statuses(statuses=statuses, phone=phone))

    for cut in (1, 6, 16, 21):

        def halves(cut: int = cut) -> list[str]:
            head = usage_record_from_statuses(statuses=statuses[:cut], phone=phone)
            return head + usage_record_from_statuses(statuses=statuses[cut:], phone=phone)

        assert _metered(alpha, halves) == (whole, rows_whole), f"split at {cut}"


def test_a_prepaid_balance_and_the_counters_move_by_the_sum_of_the_charges(alpha, phone, pricing_data):
    billing_profile_update(tenant=alpha.tenant, actor=None, prepaid=True, credit_limit_micros=20_000)
    statuses = [status(f"wamid.{n}", at=NOVEMBER) for n in range(5)] + [
        status("wamid.us", recipient=US, category="utility", at=NOVEMBER),
        status("wamid.service", category="service", pricing_type="free_customer_service", at=NOVEMBER),
    ]

    _, rows_one_by_one = _metered(alpha, lambda: _one_by_one(statuses, phone))
    _, rows = _metered(alpha, lambda: usage_record_from_statuses(statuses=statuses, phone=phone))

    assert rows == rows_one_by_one
    assert rows["balance"] == [(True, -(5 * 11_800 + 3_400))]
    cycle = NOVEMBER.date().replace(day=1)
    assert rows["counters"] == [
        (cycle, "messages", "MARKETING", 5, 0, 59_000),
        (cycle, "messages", "SERVICE", 1, 1, 0),
        (cycle, "messages", "UTILITY", 1, 0, 3_400),
    ]


def test_crossing_the_credit_limit_in_a_batch_queues_one_pause(
    alpha, phone, pricing_data, django_capture_on_commit_callbacks
):
    billing_profile_update(tenant=alpha.tenant, actor=None, prepaid=True, credit_limit_micros=20_000)
    with tenant_context(alpha.tenant), django_capture_on_commit_callbacks() as callbacks:
        usage_record_from_statuses(statuses=[status(f"wamid.{n}", at=NOVEMBER) for n in range(5)], phone=phone)
    assert len(callbacks) == 1  # the balance went below −20,000 once: one pause_for_balance job


def _mixed(groups: int) -> list[dict[str, Any]]:
    """`groups` × (charged, its read: duplicate, free, no pricing: unpriced, sent: ignored)."""
    statuses = []
    for n in range(groups):
        statuses += [
            status(f"wamid.{n}", at=NOVEMBER),
            status(f"wamid.{n}", "read", at=NOVEMBER),
            status(f"wamid.free-{n}", category="service", pricing_type="free_customer_service", at=NOVEMBER),
            status(f"wamid.unpriced-{n}", category=None, at=NOVEMBER),
            status(f"wamid.sent-{n}", "sent", at=NOVEMBER),
        ]
    return statuses


def _statements(member: Any, statuses: list[dict[str, Any]], phone: Any) -> tuple[list[str], list[str]]:
    def run() -> tuple[list[str], list[str]]:
        with CaptureQueriesContext(connection) as queries:
            outcomes = usage_record_from_statuses(statuses=statuses, phone=phone)
        return outcomes, [query["sql"] for query in queries.captured_queries]

    return _metered(member, run)[0]


def test_a_batch_takes_the_same_statements_for_5_statuses_as_for_500(alpha, phone, pricing_data):
    with tenant_context(alpha.tenant):
        BillingProfile.objects.create(tenant_id=alpha.tenant.pk)  # as after the first charge

    small, few = _statements(alpha, _mixed(1), phone)
    large, many = _statements(alpha, _mixed(100), phone)

    assert small == ["charged", "duplicate", "free", "unpriced", "ignored"]
    assert large == small * 100
    assert len(many) == len(few), "\n".join(many)
    assert len(few) <= 14, "\n".join(few)
