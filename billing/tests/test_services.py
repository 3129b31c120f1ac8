"""Credits, adjustments, the billing profile, prepaid balances and their enforcement, AI tokens,
billing cycles and the usage summary."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from aerostic.core import queues
from aerostic.core.errors import Conflict, DomainError, Forbidden
from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import tenant_context
from billing import services
from billing.cycles import cycle_after, cycle_bounds, cycle_start
from billing.jobs import pause_for_balance
from billing.models import BillingProfile, LedgerEntry, UsageCounter
from billing.selectors import launch_allowed, ledger_balance_check, ledger_entries, usage_summary
from billing.tests.support import US, deliver_statuses, status
from campaigns.models import Campaign
from campaigns.tests.support import approved_template, audience, draft, launch

pytestmark = pytest.mark.django_db

USD = 1_000_000


def _profile(member) -> BillingProfile:
    with tenant_context(member.tenant):
        return BillingProfile.objects.get()


def _audits(member, action: str) -> int:
    with tenant_context(member.tenant):
        return AuditEvent.objects.filter(action=action).count()


def _prepaid(member, *, credit: int, limit: int = 0) -> None:
    services.billing_profile_update(tenant=member.tenant, actor=None, prepaid=True, credit_limit_micros=limit)
    if credit:
        services.credit_add(tenant=member.tenant, amount_micros=credit, reason="Top-up", actor=member.admin.user)


def test_credits_and_adjustments_are_audited_and_move_a_prepaid_balance(alpha):
    _prepaid(alpha, credit=5 * USD, limit=USD)
    services.adjustment_add(tenant=alpha.tenant, amount_micros=-USD, reason="Refund reversed", actor=alpha.admin.user)

    profile = _profile(alpha)
    assert (profile.prepaid, profile.balance_micros, profile.credit_limit_micros) == (True, 4 * USD, USD)
    with tenant_context(alpha.tenant):
        entries = list(ledger_entries())
        assert ledger_balance_check() == (4 * USD, 4 * USD)
    assert [(e.kind, e.amount_micros, e.description, e.created_by_id) for e in entries] == [
        ("adjustment", -USD, "Refund reversed", alpha.admin.user.pk),
        ("credit", 5 * USD, "Top-up", alpha.admin.user.pk),
    ]
    assert _audits(alpha, "billing.credit") == _audits(alpha, "billing.adjustment") == 1
    assert _audits(alpha, "billing.profile_update") == 1


def test_a_credit_with_a_reference_already_on_the_ledger_is_refused(alpha):
    services.credit_add(tenant=alpha.tenant, amount_micros=USD, reason="Payment", actor=None, reference="pi_123")
    with pytest.raises(Conflict):
        services.credit_add(tenant=alpha.tenant, amount_micros=USD, reason="Payment", actor=None, reference="pi_123")
    with tenant_context(alpha.tenant):
        assert LedgerEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("call", "amount"),
    [("credit_add", 0), ("credit_add", -5), ("credit_add", 1.5), ("adjustment_add", 0)],
    ids=["zero-credit", "negative-credit", "float-credit", "zero-adjustment"],
)
def test_amounts_are_whole_micro_units_with_the_right_sign(alpha, call, amount):
    with pytest.raises(DomainError):
        getattr(services, call)(tenant=alpha.tenant, amount_micros=amount, reason="x", actor=None)


def test_a_workspace_member_cannot_set_the_billing_profile(alpha):
    # Prepaid, the credit limit and the currency are the platform's controls over a workspace
    with pytest.raises(Forbidden):
        services.billing_profile_update(tenant=alpha.tenant, actor=alpha.admin.user, prepaid=False)
    with tenant_context(alpha.tenant):
        assert not BillingProfile.objects.exists()
        assert not AuditEvent.objects.filter(action="billing.profile_update").exists()


def test_the_currency_is_fixed_once_the_ledger_has_entries(alpha):
    services.billing_profile_update(tenant=alpha.tenant, actor=None, currency="inr")
    assert _profile(alpha).currency == "INR"
    services.credit_add(tenant=alpha.tenant, amount_micros=USD, reason="Welcome credit", actor=None)
    with pytest.raises(Conflict):
        services.billing_profile_update(tenant=alpha.tenant, actor=None, currency="USD")


def test_delivered_messages_lower_a_prepaid_balance_and_crossing_the_limit_queues_the_pause(
    alpha, phone, pricing_data, django_capture_on_commit_callbacks
):
    _prepaid(alpha, credit=20_000)  # 0.02 USD
    deliver_statuses(phone, status("wamid.one"))  # India marketing 0.0118
    assert _profile(alpha).balance_micros == 8_200
    with django_capture_on_commit_callbacks(execute=True):
        deliver_statuses(phone, status("wamid.two"))
    assert _profile(alpha).balance_micros == -3_600
    jobs = queues.get_queue("default").jobs
    assert [(job.func_name, job.kwargs) for job in jobs] == [
        ("billing.jobs.pause_for_balance", {"tenant_id": alpha.tenant.pk})
    ]
    with tenant_context(alpha.tenant):
        assert ledger_balance_check() == (-3_600, -3_600)


def test_a_postpaid_balance_does_not_move(alpha, phone, pricing_data):
    deliver_statuses(phone, status("wamid.one", recipient=US))
    assert _profile(alpha).balance_micros == 0 and not _profile(alpha).prepaid


def test_the_pause_job_pauses_running_campaigns_with_the_reason(alpha, phone, simulator, connected):
    template = approved_template(simulator, alpha, connected)
    campaign = launch(alpha, draft(alpha, phone, template, audience(alpha, 2)))
    _prepaid(alpha, credit=0)
    services.adjustment_add(tenant=alpha.tenant, amount_micros=-1, reason="Below the limit", actor=None)

    assert pause_for_balance(tenant_id=alpha.tenant.pk) == {"paused": 1}
    with tenant_context(alpha.tenant):
        paused = Campaign.objects.get(pk=campaign.pk)
    assert paused.status == Campaign.Status.PAUSED and "prepaid balance" in paused.status_reason


def test_launch_is_refused_when_the_estimate_would_cross_the_credit_limit(alpha, settings):
    estimate = {"status": "estimated", "total_micros": 66_000}
    with tenant_context(alpha.tenant):
        assert launch_allowed(alpha.tenant, estimate) == (True, "")  # postpaid
    _prepaid(alpha, credit=50_000, limit=10_000)
    with tenant_context(alpha.tenant):
        allowed, reason = launch_allowed(alpha.tenant, estimate)
        assert not allowed and "would go below its credit limit" in reason and "0.0660 USD" in reason
        assert launch_allowed(alpha.tenant, {"status": "estimated", "total_micros": 60_000}) == (True, "")
        assert launch_allowed(alpha.tenant, {"status": "unknown"}) == (True, "")
        settings.BILLING_ENFORCE_BALANCE = False
        assert launch_allowed(alpha.tenant, estimate) == (True, "")


def test_a_balance_already_below_the_limit_refuses_any_launch(alpha):
    _prepaid(alpha, credit=0, limit=0)
    services.adjustment_add(tenant=alpha.tenant, amount_micros=-1, reason="Usage", actor=None)
    with tenant_context(alpha.tenant):
        allowed, reason = launch_allowed(alpha.tenant, {"status": "unknown"})
    assert not allowed and "is below its credit limit" in reason


def test_ai_tokens_are_counted_once_per_reference(alpha):
    for _ in range(2):
        services.ai_tokens_record(
            tenant=alpha.tenant,
            reference="reply:42",
            provider="openai_compatible",
            model="gpt-small",
            prompt_tokens=1_000,
            completion_tokens=250,
            amount_micros=500,
        )
    with tenant_context(alpha.tenant):
        counter = UsageCounter.objects.get(kind="ai_tokens")
        [entry] = LedgerEntry.objects.all()
    assert (counter.category, counter.count, counter.amount_micros) == ("openai_compatible:gpt-small", 1_250, 500)
    assert (entry.reference, entry.amount_micros, entry.category) == ("ai:reply:42", -500, "AI")


@pytest.mark.parametrize(
    ("cycle_day", "at", "start"),
    [
        (1, datetime(2026, 11, 26, 8, tzinfo=UTC), date(2026, 11, 1)),
        (15, datetime(2026, 11, 10, tzinfo=UTC), date(2026, 10, 15)),
        (15, datetime(2026, 1, 5, tzinfo=UTC), date(2025, 12, 15)),
        (28, datetime(2026, 3, 1, tzinfo=UTC), date(2026, 2, 28)),
    ],
)
def test_billing_cycles_start_on_the_cycle_day(cycle_day, at, start):
    assert cycle_start(cycle_day, at) == start
    assert cycle_bounds(start)[1] == datetime.combine(cycle_after(start), datetime.min.time(), tzinfo=UTC)


def test_usage_summary_of_the_current_cycle(alpha, phone, pricing_data):
    deliver_statuses(phone, status("wamid.in"), status("wamid.us", recipient=US, category="utility"))
    deliver_statuses(phone, status("wamid.free", category="service", pricing_type="free_customer_service"))
    services.credit_add(tenant=alpha.tenant, amount_micros=USD, reason="Top-up", actor=None)
    with tenant_context(alpha.tenant):
        summary = usage_summary()
    assert summary["currency"] == "USD" and summary["spent_micros"] == 11_800 + 3_400
    assert summary["by_category"] == [
        {"category": "MARKETING", "amount_micros": 11_800, "count": 1},
        {"category": "UTILITY", "amount_micros": 3_400, "count": 1},
        {"category": "SERVICE", "amount_micros": 0, "count": 1},
    ]
    assert {row["market"]: row["amount_micros"] for row in summary["by_market"]} == {
        "India": 11_800,
        "North America": 3_400,
    }
    assert summary["daily"][-1]["amount_micros"] == 15_200
    assert sum(day["amount_micros"] for day in summary["daily"]) == 15_200
    assert summary["credits_micros"] == USD and summary["top_campaigns"] == [] and summary["unpriced"] == 0
    assert {(c["kind"], c["category"]): (c["count"], c["free"]) for c in summary["counters"]} == {
        ("messages", "MARKETING"): (1, 0),
        ("messages", "UTILITY"): (1, 0),
        ("messages", "SERVICE"): (1, 1),
    }
