"""AI token prices (platform data, `AITokenPrice`): the row in force for a provider's model on a day,
and what a reply's prompt and completion tokens cost at it. Reads only, writes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

from billing.models import AITokenPrice

TOKENS_PER_PRICE = 1000  # prices are per 1,000 tokens


def ai_token_price(provider: str, model: str, at: date | datetime, currency: str = "USD") -> AITokenPrice:
    """The newest row effective on `at` (its UTC day) for the exact `model`, else the provider's "*"
    row, else an unsaved zero price: a provider nobody priced costs nothing rather than failing the
    reply's transaction, and its tokens are still counted (the dashboard and admin show them)."""
    day = at.astimezone(UTC).date() if isinstance(at, datetime) else at
    in_force = AITokenPrice.objects.filter(provider=provider, currency=currency.upper(), effective_from__lte=day)
    for name in (model, AITokenPrice.DEFAULT_MODEL):
        row = in_force.filter(model=name).order_by("-effective_from").first()
        if row is not None:
            return row
    return AITokenPrice(
        provider=provider,
        model=model,
        currency=currency.upper(),
        prompt_micros_per_1k=0,
        completion_micros_per_1k=0,
        effective_from=day,
        source="No price row: free",
    )


def ai_tokens_cost(price: AITokenPrice, *, prompt_tokens: int, completion_tokens: int) -> int:
    """prompt/1000 × prompt price + completion/1000 × completion price, in whole micro-units rounded
    half-up once on the sum (integer arithmetic: exact, no float ever sees the money)."""
    thousandths = prompt_tokens * price.prompt_micros_per_1k + completion_tokens * price.completion_micros_per_1k
    return (thousandths + TOKENS_PER_PRICE // 2) // TOKENS_PER_PRICE
