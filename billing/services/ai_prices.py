"""AI token prices (platform data): platform staff add, change and remove rows in the admin through
these services (audited); `seed_pricing` adds the shipped defaults once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from aerostic.core import audit
from aerostic.core.errors import DomainError, Forbidden
from billing.models import AITokenPrice


@dataclass(frozen=True)
class DefaultPrice:
    provider: str
    model: str
    prompt_micros_per_1k: int
    completion_micros_per_1k: int
    source: str
    currency: str = "USD"
    effective_from: date = date(2025, 1, 1)


DEFAULT_PRICES = [
    DefaultPrice(
        provider="knowledge_base",
        model=AITokenPrice.DEFAULT_MODEL,
        prompt_micros_per_1k=0,
        completion_micros_per_1k=0,
        source="Built in: the knowledge-base provider runs inside Aerostic and calls no paid model, so it is free.",
    ),
    DefaultPrice(
        provider="openai_compatible",
        model=AITokenPrice.DEFAULT_MODEL,
        prompt_micros_per_1k=150,
        completion_micros_per_1k=600,
        source=(
            "Example only: OpenAI's published list price of gpt-4o-mini (0.15 USD per 1M prompt tokens, "
            "0.60 USD per 1M completion tokens). Operators set real prices in the admin (Billing › AI token "
            "prices): a row per model they use, or a newer row here, in each currency their workspaces pay in."
        ),
    ),
]


def _check_staff(actor: Any) -> None:
    if actor is not None and not getattr(actor, "is_staff", False):
        raise Forbidden("Only platform staff change AI token prices.")


def _snapshot(price: AITokenPrice) -> dict[str, Any]:
    return {
        "provider": price.provider,
        "model": price.model,
        "currency": price.currency,
        "prompt_micros_per_1k": price.prompt_micros_per_1k,
        "completion_micros_per_1k": price.completion_micros_per_1k,
        "effective_from": price.effective_from.isoformat() if price.effective_from else None,
    }


@transaction.atomic
def ai_token_price_save(*, price: AITokenPrice, actor: Any, request: Any = None) -> AITokenPrice:
    """Adds or changes one price row (validated, audited with the values before and after). A row
    changed after replies were metered changes nothing already on the ledger: those keep their amount."""
    _check_staff(actor)
    price.provider, price.model = price.provider.strip(), price.model.strip()
    price.currency = (price.currency or "").strip().upper()
    if len(price.currency) != 3 or not price.currency.isalpha():
        raise DomainError("The currency is a three-letter ISO code, e.g. USD.")
    try:
        price.full_clean()
    except ValidationError as error:
        raise DomainError(" ".join(error.messages)) from None
    before = None
    if price.pk is not None:
        stored = AITokenPrice.objects.select_for_update().filter(pk=price.pk).first()
        before = _snapshot(stored) if stored is not None else None
    price.save()
    after = _snapshot(price)
    if before != after:
        audit.record(
            "billing.ai_price_save",
            actor=actor,
            target=price,
            request=request,
            metadata={"before": before, "after": after, "source": price.source[:200]},
        )
    return price


@transaction.atomic
def ai_token_price_delete(*, price: AITokenPrice, actor: Any, request: Any = None) -> None:
    """Removes a price row (audited): replies from now on are priced by the next row that applies."""
    _check_staff(actor)
    audit.record(
        "billing.ai_price_delete", actor=actor, target=price, request=request, metadata={"before": _snapshot(price)}
    )
    price.delete()


@transaction.atomic
def ai_token_prices_seed() -> list[AITokenPrice]:
    """The shipped default rows, each added only when its provider and model have no row in its
    currency, so the next `seed_pricing` never undoes an operator's change (removing every row of a
    default brings it back on the next seed: to make it free, set its prices to 0). Returns the rows
    added."""
    added = []
    for default in DEFAULT_PRICES:
        if AITokenPrice.objects.filter(
            provider=default.provider, model=default.model, currency=default.currency
        ).exists():
            continue
        price = AITokenPrice.objects.create(
            provider=default.provider,
            model=default.model,
            currency=default.currency,
            prompt_micros_per_1k=default.prompt_micros_per_1k,
            completion_micros_per_1k=default.completion_micros_per_1k,
            effective_from=default.effective_from,
            source=default.source,
        )
        audit.record("billing.ai_price_seed", target=price, metadata={"after": _snapshot(price)})
        added.append(price)
    return added
