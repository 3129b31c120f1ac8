"""Ledger writes: the entry INSERT … ON CONFLICT DO NOTHING that makes every charge happen once, the
usage counter and the prepaid balance that move with it; credits, adjustments and AI tokens."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from aerostic.core import audit
from aerostic.core.errors import Conflict, DomainError
from billing.cycles import cycle_start
from billing.models import BillingProfile, LedgerEntry, UsageCounter
from billing.services.profiles import billing_profile_ensure
from tenants.context import require_tenant_id, tenant_context

Kind = LedgerEntry.Kind

# The helpers below (ledger_insert, counter_add, counter_value, balance_move) are this package's
# building blocks, used by metering too; other apps call the services, never these.


_LEDGER_INSERT_SQL = """
INSERT INTO billing_ledgerentry (tenant_id, kind, amount_micros, currency, reference, wamid, category, market,
    country, pricing_model, pricing_type, rate_id, billing_cycle, occurred_at, campaign_id, phone_number_id,
    description, created_by_id, created_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())
ON CONFLICT (tenant_id, reference) DO NOTHING
RETURNING id
"""


def ledger_insert(
    *,
    profile: BillingProfile,
    kind: str,
    amount_micros: int,
    reference: str,
    cycle: Any,
    at: datetime,
    wamid: str = "",
    category: str = "",
    market: str = "",
    country: str = "",
    pricing_model: str = "",
    pricing_type: str = "",
    rate_id: int | None = None,
    campaign_id: int | None = None,
    phone_number_id: int | None = None,
    description: str = "",
    created_by_id: int | None = None,
) -> int | None:
    """One ledger row, or None when its reference is already on the ledger (nothing written)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _LEDGER_INSERT_SQL,
            [
                profile.tenant_id,
                kind,
                amount_micros,
                profile.currency,
                reference,
                wamid[:255],
                category,
                market,
                country,
                pricing_model,
                pricing_type,
                rate_id,
                cycle,
                at,
                campaign_id,
                phone_number_id,
                description[:255],
                created_by_id,
            ],
        )
        row = cursor.fetchone()
    return row[0] if row else None


_COUNTER_SQL = """
INSERT INTO billing_usagecounter (tenant_id, billing_cycle, kind, category, count, free_count, amount_micros,
    updated_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, now())
ON CONFLICT (tenant_id, billing_cycle, kind, category) DO UPDATE SET
    count = billing_usagecounter.count + EXCLUDED.count,
    free_count = billing_usagecounter.free_count + EXCLUDED.free_count,
    amount_micros = billing_usagecounter.amount_micros + EXCLUDED.amount_micros,
    updated_at = now()
"""


def counter_add(cycle: Any, kind: str, category: str, *, count: int, free: int = 0, amount: int = 0) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_COUNTER_SQL, [require_tenant_id(), cycle, kind, category[:64], count, free, amount])


def counter_value(cycle: Any, kind: str, category: str) -> int:
    return (
        UsageCounter.objects.filter(billing_cycle=cycle, kind=kind, category=category)
        .values_list("count", flat=True)
        .first()
        or 0
    )


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
        from aerostic.core.jobs import enqueue_on_commit
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
    *, tenant: Any, reference: str, tokens: int, model: str, amount_micros: int = 0, at: datetime | None = None
) -> bool:
    """AI usage (the AI auto-reply calls this once per completion): counts `tokens` under `model` in
    the cycle's ai_tokens counter and, when it costs something, debits `amount_micros`. `reference`
    (e.g. the reply's message id) makes it count once; returns False when it was already recorded."""
    if tokens < 0 or amount_micros < 0:
        raise DomainError("Tokens and amounts are not negative.")
    profile = billing_profile_ensure(tenant=tenant)
    at = at or timezone.now()
    cycle = cycle_start(profile.cycle_day, at)
    with tenant_context(profile.tenant_id), transaction.atomic():
        entry_id = ledger_insert(
            profile=profile,
            kind=Kind.DEBIT,
            amount_micros=-amount_micros,
            reference=f"ai:{reference}"[:255],
            cycle=cycle,
            at=at,
            category="AI",
            description=f"{tokens} AI tokens ({model})"[:255],
        )
        if entry_id is None:
            return False
        counter_add(cycle, UsageCounter.Kind.AI_TOKENS, model, count=tokens, amount=amount_micros)
        if amount_micros:
            balance_move(profile, -amount_micros)
    return True
