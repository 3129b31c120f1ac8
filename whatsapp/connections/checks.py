"""Live checks of a connection through Graph (token, scopes, webhooks, each number's registration,
quality and tier), refreshing what they read, and the cooldown that keeps people from spending the
WABA's Graph quota on them."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from aerostic.core.errors import RateLimited
from aerostic.core.tenant_context import tenant_context
from whatsapp import ratelimits
from whatsapp.connections.clients import ConnectionProblem, graph_for
from whatsapp.connections.connect import phone_fields
from whatsapp.connections.tokens import mark_reauthorisation_needed, token_inspect
from whatsapp.graph import GraphAuthError, GraphClient, GraphError
from whatsapp.models import AccessToken, PhoneNumber, WhatsAppAccount


def live_check_claim(*, tenant_id: int, kind: str) -> None:
    """A person asks for a live Graph check ("connection", "template-refresh", "template-sync"): one
    per workspace and kind within WHATSAPP_LIVE_CHECK_COOLDOWN_SECONDS, so a page reloaded in a loop
    or a script cannot spend the WABA's Graph quota. Raises RateLimited with the wait."""
    seconds = settings.WHATSAPP_LIVE_CHECK_COOLDOWN_SECONDS
    permit = ratelimits.take_cooldown(f"tenant:{tenant_id}:live-check:{kind}", seconds=seconds)
    if not permit.allowed:
        raise RateLimited(
            f"Meta was asked moments ago: try again in {max(1, round(permit.retry_after))} s.",
            retry_after=permit.retry_after,
        )


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def connection_check(*, account: WhatsAppAccount, deep: bool = True) -> list[Check]:
    """Live checks through Graph; also refreshes quality, tier and the account's status."""
    with tenant_context(account.tenant_id):
        return _connection_check(account=account, deep=deep)


def _connection_check(*, account: WhatsAppAccount, deep: bool) -> list[Check]:
    checks: list[Check] = []
    token_row = account.tokens.filter(is_current=True).exclude(token=None).first()
    if token_row is None:
        return [Check("token", False, "No token stored: reconnect the account.")]
    try:
        info = token_inspect(token_row.token.reveal(), mode=account.mode)
        checks.append(
            Check(
                "token",
                True,
                "Valid" + (f", expires {info.expires_at:%Y-%m-%d}" if info.expires_at else ", does not expire"),
            )
        )
        checks.append(Check("scopes", True, ", ".join(s for s in info.scopes if s.startswith("whatsapp"))))
        token_row.status = AccessToken.Status.VALID
    except ConnectionProblem as problem:
        checks.append(Check("token", False, problem.message))
        token_row.status = AccessToken.Status.INVALID
    token_row.last_checked_at = timezone.now()
    token_row.save(update_fields=["status", "last_checked_at"])

    if deep and all(check.ok for check in checks):
        client = graph_for(account)
        try:
            subscribed = bool(client.list_subscribed_apps(account.waba_id))
            checks.append(Check("webhooks", subscribed, "Subscribed" if subscribed else "Not subscribed"))
        except GraphAuthError as error:
            mark_reauthorisation_needed(account, error)
            checks.append(Check("webhooks", False, error.describe()))
        except GraphError as error:
            checks.append(Check("webhooks", False, error.describe()))
        for phone in account.phone_numbers.filter(is_active=True):
            checks.extend(_phone_checks(client, phone))
    ok = all(check.ok for check in checks)
    account.status = WhatsAppAccount.Status.CONNECTED if ok else WhatsAppAccount.Status.NEEDS_ATTENTION
    account.status_detail = "" if ok else next(c.detail for c in checks if not c.ok)[:255]
    account.last_checked_at = timezone.now()
    account.save(update_fields=["status", "status_detail", "last_checked_at"])
    return checks


def _phone_checks(client: GraphClient, phone: PhoneNumber) -> list[Check]:
    label = phone.display_phone_number
    try:
        data = client.get_phone_number(phone.phone_number_id)
    except GraphError as error:
        phone.health, phone.health_detail = PhoneNumber.Health.ERROR, error.describe()[:255]
        phone.save(update_fields=["health", "health_detail"])
        return [Check(f"{label}: reachable", False, error.describe())]
    for field, value in phone_fields(data).items():
        setattr(phone, field, value)
    registered = data.get("platform_type") == "CLOUD_API" or phone.is_registered
    quality_ok = phone.quality_rating not in ("RED",)
    phone.health = (
        PhoneNumber.Health.OK
        if registered and quality_ok
        else PhoneNumber.Health.ERROR
        if not registered
        else PhoneNumber.Health.WARNING
    )
    phone.health_detail = (
        ""
        if phone.health == PhoneNumber.Health.OK
        else ("Not registered for the Cloud API" if not registered else f"Quality rating {phone.quality_rating}")
    )
    phone.save()
    return [
        Check(f"{label}: registered", registered, "Registered" if registered else "Register it with its PIN"),
        Check(f"{label}: quality", quality_ok, phone.quality_rating or "UNKNOWN"),
        Check(f"{label}: messaging tier", True, phone.messaging_limit_tier or "unknown"),
    ]
