"""Ledger writes: the entry INSERT … ON CONFLICT DO NOTHING that makes every charge happen once, the
usage counter and the prepaid balance that move with it; credits, adjustments and AI tokens (the
inbox's AI auto-reply hands its usage to `ai_usage_meter`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from aerostic.core import audit
from aerostic.core.errors import Conflict, DomainError
from aerostic.core.jobs import enqueue_on_commit
from aerostic.core.money import from_micros
from aerostic.core.sqlrows import bound_cursor
from aerostic.core.tenant_context import require_tenant_id, tenant_context
from billing.ai_pricing import ai_token_price, ai_tokens_cost
from billing.cycles import cycle_start
from billing.models import BillingProfile, LedgerEntry, UsageCounter, ai_counter_category
from billing.services.profiles import billing_profile_ensure
from inbox.ai.usage import AIUsage

Kind = LedgerEntry.Kind
Counter = UsageCounter.Kind

# The helpers below (ledger_insert[_many], counter[s]_add, counter_values, balance_move) are this
# package's building blocks, used by metering too; other apps call the services, never these.


# Rows as parallel arrays through unnest: one statement text whatever the number of rows.
_LEDGER_INSERT_SQL = """
INSERT INTO billing_ledgerentry (tenant_id, currency, kind, amount_micros, reference, wamid, category, market,
    country, pricing_model, pricing_type, rate_id, billing_cycle, occurred_at, campaign_id, phone_number_id,
    description, created_by_id, created_at)
SELECT %s, %s, v.*, now() FROM unnest(%s::text[], %s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[],
    %s::text[], %s::text[], %s::text[], %s::bigint[], %s::date[], %s::timestamptz[], %s::bigint[], %s::bigint[],
    %s::text[], %s::bigint[]) AS v
ON CONFLICT (tenant_id, reference) DO NOTHING
RETURNING reference, id
"""


@dataclass(frozen=True)
class Entry:
    """One ledger row to write (`ledger_insert_many`); the tenant and currency are the profile's."""

    kind: str
    amount_micros: int
    reference: str
    cycle: Any
    at: datetime
    wamid: str = ""
    category: str = ""
    market: str = ""
    country: str = ""
    pricing_model: str = ""
    pricing_type: str = ""
    rate_id: int | None = None
    campaign_id: int | None = None
    phone_number_id: int | None = None
    description: str = ""
    created_by_id: int | None = None


def ledger_insert_many(*, profile: BillingProfile, entries: list[Entry]) -> dict[str, int]:
    """The entries whose reference is not on the ledger yet, in one INSERT … ON CONFLICT DO NOTHING;
    returns {reference: id} of the rows written (a reference already there, even one written a moment
    ago by a concurrent transaction, is simply absent)."""
    if not entries:
        return {}
    columns: list[list[Any]] = [
        [entry.kind for entry in entries],
        [entry.amount_micros for entry in entries],
        [entry.reference for entry in entries],
        [entry.wamid[:255] for entry in entries],
        [entry.category for entry in entries],
        [entry.market for entry in entries],
        [entry.country for entry in entries],
        [entry.pricing_model for entry in entries],
        [entry.pricing_type for entry in entries],
        [entry.rate_id for entry in entries],
        [entry.cycle for entry in entries],
        [entry.at for entry in entries],
        [entry.campaign_id for entry in entries],
        [entry.phone_number_id for entry in entries],
        [entry.description[:255] for entry in entries],
        [entry.created_by_id for entry in entries],
    ]
    with bound_cursor() as cursor:
        cursor.execute(_LEDGER_INSERT_SQL, [profile.tenant_id, profile.currency, *columns])
        return dict(cursor.fetchall())


def ledger_insert(
    *,
    profile: BillingProfile,
    kind: str,
    amount_micros: int,
    reference: str,
    cycle: Any,
    at: datetime,
    **details: Any,
) -> int | None:
    """One ledger row (`details`: the other Entry fields), or None when its reference is already on
    the ledger (nothing written)."""
    entry = Entry(kind=kind, amount_micros=amount_micros, reference=reference, cycle=cycle, at=at, **details)
    return ledger_insert_many(profile=profile, entries=[entry]).get(reference)


_COUNTERS_SQL = """
INSERT INTO billing_usagecounter (tenant_id, billing_cycle, kind, category, count, free_count, amount_micros,
    updated_at)
SELECT %s, v.*, now() FROM unnest(%s::date[], %s::text[], %s::text[], %s::bigint[], %s::bigint[], %s::bigint[]) AS v
ON CONFLICT (tenant_id, billing_cycle, kind, category) DO UPDATE SET
    count = billing_usagecounter.count + EXCLUDED.count,
    free_count = billing_usagecounter.free_count + EXCLUDED.free_count,
    amount_micros = billing_usagecounter.amount_micros + EXCLUDED.amount_micros,
    updated_at = now()
"""


def counters_add(moves: Iterable[tuple[Any, str, str, int, int, int]]) -> None:
    """Adds (cycle, kind, category, count, free, amount) moves to the usage counters, summed per
    counter first (one INSERT … ON CONFLICT DO UPDATE may touch each row once)."""
    sums: dict[tuple[Any, str, str], list[int]] = {}
    for cycle, kind, category, count, free, amount in moves:
        total = sums.setdefault((cycle, kind, category[:128]), [0, 0, 0])
        total[0], total[1], total[2] = total[0] + count, total[1] + free, total[2] + amount
    if not sums:
        return
    keys, totals = list(sums), list(sums.values())
    columns = [[key[0] for key in keys], [key[1] for key in keys], [key[2] for key in keys]]
    columns += [[total[n] for total in totals] for n in range(3)]
    with connection.cursor() as cursor:
        cursor.execute(_COUNTERS_SQL, [require_tenant_id(), *columns])


def counter_add(cycle: Any, kind: str, category: str, *, count: int, free: int = 0, amount: int = 0) -> None:
    counters_add([(cycle, kind, category, count, free, amount)])


def counter_values(cycles: Iterable[Any], kind: str, category: str) -> dict[Any, int]:
    """{cycle: count} of one counter in several cycles (a cycle never counted is absent)."""
    rows = UsageCounter.objects.filter(billing_cycle__in=list(cycles), kind=kind, category=category)
    return dict(rows.values_list("billing_cycle", "count"))


def balance_move(profile: BillingProfile, delta_micros: int) -> None:
    """A prepaid balance follows the ledger in the same transaction. Crossing below −credit limit
    queues the job that pauses the workspace's running campaigns (once, when it crosses)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE billing_billingprofile SET balance_micros = balance_micros + %s, updated_at = now()"
            " WHERE tenant_id = %s AND prepaid RETURNING balance_micros, credit_limit_micros",
            [delta_micros, profile.tenant_id],
        )
        row = cursor.fetchone()
    if row is None:
        return
    balance, limit = row
    if delta_micros < 0 and balance < -limit <= balance - delta_micros and settings.BILLING_ENFORCE_BALANCE:
        from billing.jobs import pause_for_balance

        enqueue_on_commit(pause_for_balance, queue="default", tenant_id=profile.tenant_id)


def _entry_add(
    *, tenant: Any, kind: str, amount_micros: int, reason: str, actor: Any, reference: str, request: Any
) -> LedgerEntry:
    if not reason.strip():
        raise DomainError("Say why (the reason is kept on the ledger and in the audit trail).")
    profile = billing_profile_ensure(tenant=tenant)
    now = timezone.now()
    user = actor if getattr(actor, "is_authenticated", False) else None
    with tenant_context(profile.tenant_id), transaction.atomic():
        entry_id = ledger_insert(
            profile=profile,
            kind=kind,
            amount_micros=amount_micros,
            reference=reference,
            cycle=cycle_start(profile.cycle_day, now),
            at=now,
            description=reason.strip(),
            created_by_id=user.pk if user else None,
        )
        if entry_id is None:
            raise Conflict(f"{reference} is already on the ledger.")
        balance_move(profile, amount_micros)
        entry = LedgerEntry.objects.get(pk=entry_id)
        audit.record(
            f"billing.{kind}",
            actor=actor,
            tenant=profile.tenant_id,
            target=entry,
            request=request,
            metadata={"amount_micros": amount_micros, "currency": profile.currency, "reason": reason.strip()[:200]},
        )
    return entry


def credit_add(
    *, tenant: Any, amount_micros: int, reason: str, actor: Any, reference: str = "", request: Any = None
) -> LedgerEntry:
    """Money in (a top-up, a payment, a goodwill credit): a positive entry, audited. `reference`
    (e.g. a payment id) makes a retried call a Conflict instead of a second credit."""
    if not isinstance(amount_micros, int) or isinstance(amount_micros, bool) or amount_micros <= 0:
        raise DomainError("A credit is a positive whole number of micro-units.")
    return _entry_add(
        tenant=tenant,
        kind=Kind.CREDIT,
        amount_micros=amount_micros,
        reason=reason,
        actor=actor,
        reference=f"credit:{reference or uuid.uuid4()}"[:255],
        request=request,
    )


def adjustment_add(
    *, tenant: Any, amount_micros: int, reason: str, actor: Any, reference: str = "", request: Any = None
) -> LedgerEntry:
    """A correction either way (the ledger is never edited): signed, non-zero, audited."""
    if not isinstance(amount_micros, int) or isinstance(amount_micros, bool) or amount_micros == 0:
        raise DomainError("An adjustment is a non-zero whole number of micro-units.")
    return _entry_add(
        tenant=tenant,
        kind=Kind.ADJUSTMENT,
        amount_micros=amount_micros,
        reason=reason,
        actor=actor,
        reference=f"adjustment:{reference or uuid.uuid4()}"[:255],
        request=request,
    )


def ai_tokens_record(
    *,
    tenant: Any,
    reference: str,
    provider: str,
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    amount_micros: int | None = None,
    at: datetime | None = None,
) -> bool:
    """One AI decision's tokens (the inbox's AI auto-reply, through `ai_usage_meter`): a ledger debit
    `ai:<reference>` of `amount_micros`, or when it is not given of the tokens priced from the AI token
    price table in the workspace's currency, and the cycle's AI counters of `<provider>:<model>`.
    `reference` makes it count once: False when it is already on the ledger, or nothing was spent.
    Nests in the caller's transaction (a savepoint), so the charge commits with the decision."""
    if min(prompt_tokens, completion_tokens, amount_micros or 0) < 0:
        raise DomainError("Tokens and amounts are not negative.")
    if not prompt_tokens and not completion_tokens and not amount_micros:
        return False
    profile = billing_profile_ensure(tenant=tenant)
    at = at or timezone.now()
    cycle = cycle_start(profile.cycle_day, at)
    description = f"AI reply: {prompt_tokens} prompt + {completion_tokens} completion tokens, {provider} {model}"
    with tenant_context(profile.tenant_id), transaction.atomic():
        if amount_micros is None:
            price = ai_token_price(provider, model, at, profile.currency)
            amount_micros = ai_tokens_cost(price, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
            description += (
                f" at {from_micros(price.prompt_micros_per_1k)} / {from_micros(price.completion_micros_per_1k)}"
                f" {profile.currency} per 1k"
            )
        entry_id = ledger_insert(
            profile=profile,
            kind=Kind.DEBIT,
            amount_micros=-amount_micros,
            reference=f"ai:{reference}"[:255],
            cycle=cycle,
            at=at,
            category=LedgerEntry.AI_CATEGORY,
            description=description,
        )
        if entry_id is None:
            return False
        category, tokens = ai_counter_category(provider, model), prompt_tokens + completion_tokens
        is_free = 0 if amount_micros else 1  # a free reply's tokens count as free (`free_count`)
        counters_add(
            [
                (cycle, Counter.AI_REPLIES, category, 1, is_free, 0),
                (cycle, Counter.AI_PROMPT_TOKENS, category, prompt_tokens, 0, 0),
                (cycle, Counter.AI_COMPLETION_TOKENS, category, completion_tokens, 0, 0),
                (cycle, Counter.AI_TOKENS, category, tokens, tokens * is_free, amount_micros),
            ]
        )
        if amount_micros:
            balance_move(profile, -amount_micros)
    return True


def ai_usage_meter(usage: AIUsage) -> bool:
    """The inbox's AI usage handler (registered in BillingConfig.ready through inbox.ai.usage): runs
    inside the decision's transaction and tenant context, once per decision."""
    return ai_tokens_record(
        tenant=usage.tenant_id,
        reference=usage.reference,
        provider=usage.provider,
        model=usage.model,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
    )
