"""AI usage handed to whoever meters it (billing, a layer above, registers from its AppConfig;
the inbox never names it): one call per decision whose provider spent tokens, in the decision's
transaction, so the tokens and the decision commit together and a decision is metered once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AIUsage:
    tenant_id: int
    reference: str  # unique per decision: a re-run meters nothing twice
    provider: str
    model: str
    prompt_tokens: int
    completion_tokens: int


UsageHandler = Callable[[AIUsage], Any]
_handlers: list[UsageHandler] = []


def on_ai_usage(handler: UsageHandler) -> UsageHandler:
    """Registers a consumer of AI usage (once per handler)."""
    if handler not in _handlers:
        _handlers.append(handler)
    return handler


def usage_record(decision: Any) -> None:
    """Hands the decision's tokens to every consumer (nothing when the provider spent none)."""
    tokens_record(
        tenant_id=decision.tenant_id,
        reference=f"ai-reply:{decision.pk}",
        provider=decision.provider,
        model=decision.model,
        prompt_tokens=decision.prompt_tokens,
        completion_tokens=decision.completion_tokens,
    )


def tokens_record(
    *, tenant_id: int, reference: str, provider: str, model: str, prompt_tokens: int, completion_tokens: int
) -> None:
    """Tokens spent outside a decision (the settings page's test box asking a chat model)."""
    if not prompt_tokens and not completion_tokens:
        return
    item = AIUsage(
        tenant_id=tenant_id,
        reference=reference,
        provider=provider,
        model=model,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
    )
    for handler in _handlers:
        handler(item)
