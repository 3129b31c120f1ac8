"""The Graph client of a connected WhatsApp Business Account (its current token, its mode's base URL,
its own circuit breaker) and the error a failed connection step raises for the person connecting."""

from __future__ import annotations

from django.conf import settings

from aerostic.core.errors import DomainError
from whatsapp.graph import GraphClient, GraphError
from whatsapp.graph.breaker import CircuitBreaker
from whatsapp.models import WhatsAppAccount


class ConnectionProblem(DomainError):
    """A connection step failed; the message is for the person connecting."""


def base_url_for(mode: str) -> str:
    """Where an account of this mode is served. A sandbox account left in a database that production
    now uses (SANDBOX_ENABLED is refused there) reaches nothing: every call on it stops here."""
    if mode != WhatsAppAccount.Mode.SANDBOX:
        return settings.META_GRAPH_BASE_URL
    if not settings.SANDBOX_ENABLED:
        raise ConnectionProblem("This is a sandbox connection, and the sandbox is not enabled on this installation.")
    return settings.META_SANDBOX_URL


def refuse_production_waba(waba_id: str, mode: str) -> None:
    """Never test on the production account: outside production, the WABAs named in
    PRODUCTION_WABA_IDS are refused unless ALLOW_PRODUCTION_WABA says otherwise."""
    if (
        mode != WhatsAppAccount.Mode.SANDBOX
        and not settings.IS_PRODUCTION
        and not settings.ALLOW_PRODUCTION_WABA
        and waba_id.strip() in settings.PRODUCTION_WABA_IDS
    ):
        raise ConnectionProblem(
            f"This is the production WhatsApp Business Account, and this installation is {settings.DJANGO_ENV}: "
            "connect a test account here (the operator can allow it with ALLOW_PRODUCTION_WABA=true)."
        )


def graph_for(account: WhatsAppAccount, *, max_attempts: int | None = None, breaker: bool = True) -> GraphClient:
    """The client for an account: its current token, its mode's base URL, its own circuit breaker.
    Message sends pass `max_attempts=1`: the dispatcher decides what may be sent again. The
    campaign engine asks the breaker once per chunk itself (`breaker=False`, see `breaker_for`)."""
    token = account.tokens.filter(is_current=True).exclude(token=None).first()
    if token is None:
        raise ConnectionProblem("This WhatsApp account has no usable token: reconnect it.")
    return GraphClient(
        token=token.token,
        base_url=base_url_for(account.mode),
        breaker_key=f"waba:{account.waba_id}" if breaker else None,
        max_attempts=max_attempts,
    )


def breaker_for(account: WhatsAppAccount) -> CircuitBreaker:
    """The circuit breaker `graph_for` gives the account's clients."""
    return CircuitBreaker(f"waba:{account.waba_id}")


def step_failed(step: str, error: GraphError) -> ConnectionProblem:
    """A Graph error during a connection step, said for the person connecting."""
    return ConnectionProblem(f"{step}: {error.describe()}")
