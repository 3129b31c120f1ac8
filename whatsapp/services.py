"""Connecting WhatsApp Business Accounts: sandbox, manual system-user token, Embedded Signup;
checking and disconnecting them. Every outcome a person causes is audited; nothing half-made stays."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from aerostic.core import audit
from aerostic.core.errors import Conflict, DomainError, RateLimited
from aerostic.core.tenant_context import platform_context, tenant_context
from whatsapp import ratelimits
from whatsapp.graph import GraphAuthError, GraphClient, GraphError
from whatsapp.graph.breaker import CircuitBreaker
from whatsapp.graph.client import app_token
from whatsapp.models import AccessToken, PhoneNumber, WhatsAppAccount
from whatsapp.onboarding import orphan_close_on_connect

logger = logging.getLogger(__name__)

REQUIRED_SCOPES = ("whatsapp_business_messaging", "whatsapp_business_management")
# debug_token's `type` of the only tokens a solution partner may hold for a business: a system
# user's, including the business integration system user Embedded Signup's code exchange creates.
ACCEPTED_TOKEN_TYPES = ("SYSTEM_USER",)
SANDBOX_PIN = "123456"


class ConnectionProblem(DomainError):
    """A connection step failed; the message is for the person connecting."""


def base_url_for(mode: str) -> str:
    return settings.META_SANDBOX_URL if mode == WhatsAppAccount.Mode.SANDBOX else settings.META_GRAPH_BASE_URL


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


def _problem(step: str, error: GraphError) -> ConnectionProblem:
    return ConnectionProblem(f"{step}: {error.describe()}")


@dataclass(frozen=True)
class TokenInfo:
    is_valid: bool
    scopes: list[str]
    expires_at: datetime | None
    token_type: str


def token_inspect(token: str, *, mode: str) -> TokenInfo:
    """debug_token with the app token; refuses invalid tokens, tokens that are not a system user's
    (Meta's rule: no user-level tokens) and tokens without the WhatsApp scopes."""
    inspector_token = token if mode == WhatsAppAccount.Mode.SANDBOX else app_token()
    try:
        data = GraphClient(token=inspector_token, base_url=base_url_for(mode)).debug_token(token)
    except GraphError as error:
        raise _problem("Meta could not check the token", error) from None
    if not data.get("is_valid"):
        raise ConnectionProblem("Meta says this token is not valid (wrong, expired or revoked).")
    kind = str(data.get("type", "")).upper()
    if kind not in ACCEPTED_TOKEN_TYPES:
        described = (
            "a personal (USER) access token"
            if kind == "USER"
            else f"a {kind} token"
            if kind
            else "not a system-user token"
        )
        raise ConnectionProblem(
            f"This is {described}: Aerostic only accepts a system-user token (Business settings → "
            "System users → Generate token) or a connection through Embedded Signup."
        )
    scopes = [str(scope) for scope in data.get("scopes", [])]
    missing = [scope for scope in REQUIRED_SCOPES if scope not in scopes]
    if missing:
        raise ConnectionProblem("The token is missing these permissions: " + ", ".join(missing) + ".")
    expires = int(data.get("expires_at") or 0)
    return TokenInfo(True, scopes, datetime.fromtimestamp(expires, tz=UTC) if expires else None, kind)


def _refuse_if_connected_elsewhere(waba_id: str, phone_ids: list[str]) -> None:
    # Uniqueness spans tenants, so this one check looks across them; it reads ids, nothing else.
    with platform_context("is this WABA or number connected to another workspace?"):
        if (
            WhatsAppAccount.all_tenants.filter(waba_id=waba_id)
            .exclude(status=WhatsAppAccount.Status.DISCONNECTED)
            .exists()
        ):
            raise Conflict("This WhatsApp Business Account is already connected to a workspace.")
        if PhoneNumber.all_tenants.filter(phone_number_id__in=phone_ids, is_active=True).exists():
            raise Conflict("One of this account's phone numbers is already connected to a workspace.")


def _phone_fields(data: dict[str, Any]) -> dict[str, Any]:
    throughput = data.get("throughput")
    return {
        "display_phone_number": str(data.get("display_phone_number", "")),
        "verified_name": str(data.get("verified_name", "")),
        "quality_rating": str(data.get("quality_rating", "")),
        "messaging_limit_tier": str(data.get("messaging_limit_tier", "")),
        "throughput_level": str(throughput.get("level", "")) if isinstance(throughput, dict) else "",
        "name_status": str(data.get("name_status", "")),
        "status": str(data.get("status", "")),
        "last_synced_at": timezone.now(),
    }


def account_connect(
    *,
    tenant: Any,
    waba_id: str,
    token: str,
    mode: str,
    actor: Any,
    request: Any = None,
    register_phone_id: str | None = None,
    pin: str | None = None,
    via: str = "manual",
) -> WhatsAppAccount:
    """Validate the token, read the WABA and its numbers, subscribe the app, optionally register a
    number with its PIN, then store everything (token encrypted) in one transaction."""
    with tenant_context(tenant):
        account = _account_connect(
            tenant=tenant,
            waba_id=waba_id,
            token=token,
            mode=mode,
            actor=actor,
            request=request,
            register_phone_id=register_phone_id,
            pin=pin,
            via=via,
        )
    _first_template_sync(account)
    return account


def _first_template_sync(account: WhatsAppAccount) -> None:
    """A new connection shows its templates at once (every WABA has Meta's `hello_world`, so a first
    test send works). Best effort: the nightly sync and the "Sync from Meta" button catch up."""
    from whatsapp.message_templates.services import templates_sync

    try:
        templates_sync(account=account)
    except DomainError as error:
        logger.warning("first template sync failed", extra={"account_id": account.pk, "reason": error.message[:200]})


def _account_connect(
    *,
    tenant: Any,
    waba_id: str,
    token: str,
    mode: str,
    actor: Any,
    request: Any,
    register_phone_id: str | None,
    pin: str | None,
    via: str,
) -> WhatsAppAccount:
    waba_id, token = waba_id.strip(), token.strip()
    try:
        info = token_inspect(token, mode=mode)
        client = GraphClient(token=token, base_url=base_url_for(mode), breaker_key=f"waba:{waba_id}")
        try:
            waba = client.get_waba(waba_id)
            numbers = client.list_phone_numbers(waba_id)
        except GraphError as error:
            raise _problem("Meta would not show this WhatsApp Business Account", error) from None
        if not numbers:
            raise ConnectionProblem("This WhatsApp Business Account has no phone number yet: add one in Meta first.")
        _refuse_if_connected_elsewhere(waba_id, [str(n["id"]) for n in numbers])
        try:
            client.subscribe_app(waba_id)
        except GraphError as error:
            raise _problem("Subscribing Aerostic to the account's webhooks failed", error) from None
        registered = set()
        if register_phone_id:
            try:
                client.register_phone(register_phone_id, pin=pin or "")
            except GraphError as error:
                raise _problem("Registering the phone number failed", error) from None
            registered.add(register_phone_id)
        with transaction.atomic():
            account = WhatsAppAccount.objects.create(
                tenant=tenant,
                waba_id=waba_id,
                mode=mode,
                name=str(waba.get("name", "")),
                business_id=str((waba.get("owner_business_info") or {}).get("id", "")),
                currency=str(waba.get("currency", "")),
                timezone_id=str(waba.get("timezone_id", "")),
                webhooks_subscribed=True,
                connected_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            for number in numbers:
                fields = _phone_fields(number)
                phone_id = str(number["id"])
                fields["is_registered"] = phone_id in registered or number.get("platform_type") == "CLOUD_API"
                PhoneNumber.objects.create(tenant=tenant, account=account, phone_number_id=phone_id, **fields)
            AccessToken.objects.create(
                tenant=tenant,
                account=account,
                token=token,
                token_type=info.token_type,
                scopes=info.scopes,
                expires_at=info.expires_at,
                last_checked_at=timezone.now(),
            )
            audit.record(
                "whatsapp.connected",
                actor=actor,
                tenant=tenant,
                target=account,
                request=request,
                metadata={"waba_id": waba_id, "mode": mode, "via": via, "numbers": len(numbers)},
            )
            orphan_close_on_connect(account=account, actor=actor)
    except IntegrityError:
        _audit_failure(tenant, actor, request, waba_id, via, "already connected to a workspace")
        raise Conflict("This WhatsApp account or number is already connected to a workspace.") from None
    except DomainError as problem:
        _audit_failure(tenant, actor, request, waba_id, via, problem.message)
        raise
    return account


def _audit_failure(tenant: Any, actor: Any, request: Any, waba_id: str, via: str, reason: str) -> None:
    audit.record(
        "whatsapp.connect_failed",
        actor=actor,
        tenant=tenant,
        request=request,
        metadata={"waba_id": waba_id, "via": via, "reason": reason[:300]},
    )


def sandbox_connect(*, tenant: Any, actor: Any, request: Any = None) -> WhatsAppAccount:
    """A fresh simulated WABA and number for this workspace, connected like a real one."""
    if not settings.SANDBOX_ENABLED:
        raise ConnectionProblem("The sandbox is not enabled on this installation.")
    try:
        response = requests.post(
            f"{settings.META_SANDBOX_URL}/_sim/businesses", json={"name": f"{tenant.name} Sandbox"}, timeout=5
        )
        response.raise_for_status()
        business = response.json()
    except (requests.RequestException, ValueError):
        _audit_failure(tenant, actor, request, "", "sandbox", "simulator unreachable")
        raise ConnectionProblem(
            f"The sandbox simulator does not answer at {settings.META_SANDBOX_URL} (`make run` starts it)."
        ) from None
    return account_connect(
        tenant=tenant,
        waba_id=business["waba_id"],
        token=business["token"],
        mode=WhatsAppAccount.Mode.SANDBOX,
        actor=actor,
        request=request,
        register_phone_id=business["phone_number_id"],
        pin=SANDBOX_PIN,
        via="sandbox",
    )


def embedded_signup_complete(
    *, tenant: Any, code: str, waba_id: str, phone_number_id: str, pin: str, actor: Any, request: Any = None
) -> WhatsAppAccount:
    """The browser got a ~30-second code from Meta's Embedded Signup: exchange it at once, then connect."""
    try:
        token = GraphClient(token="", base_url=base_url_for(WhatsAppAccount.Mode.REAL), max_attempts=1).exchange_code(
            code.strip()
        )
    except GraphError as error:
        _audit_failure(tenant, actor, request, waba_id, "embedded_signup", error.describe())
        raise ConnectionProblem(
            "The sign-up code from Meta was not accepted (it is valid for about 30 seconds and only once): "
            "start the sign-up again."
        ) from None
    return account_connect(
        tenant=tenant,
        waba_id=waba_id,
        token=token,
        mode=WhatsAppAccount.Mode.REAL,
        actor=actor,
        request=request,
        register_phone_id=phone_number_id,
        pin=pin,
        via="embedded_signup",
    )


def mark_reauthorisation_needed(account: WhatsAppAccount, error: GraphError) -> None:
    """Meta refused the token (190): the account needs a new one; tell the tenant's admins."""
    from aerostic.core.alerts import raise_alert

    with tenant_context(account.tenant_id):
        account.status = WhatsAppAccount.Status.NEEDS_ATTENTION
        account.status_detail = f"Meta refused the token: {error.describe()}"[:255]
        account.save(update_fields=["status", "status_detail"])
        account.tokens.filter(is_current=True).update(status=AccessToken.Status.INVALID)
        raise_alert(
            tenant=account.tenant_id,
            key=f"whatsapp-auth:{account.pk}",
            level="critical",
            title=f"Reconnect {account}: Meta no longer accepts its token",
            detail="Reconnect with Embedded Signup or rotate the system-user token.",
        )


def phone_register(*, phone: PhoneNumber, pin: str, actor: Any, request: Any = None) -> PhoneNumber:
    try:
        graph_for(phone.account).register_phone(phone.phone_number_id, pin=pin)
    except GraphError as error:
        if isinstance(error, GraphAuthError):
            mark_reauthorisation_needed(phone.account, error)
        audit.record(
            "whatsapp.register_failed",
            actor=actor,
            tenant=phone.tenant_id,
            target=phone,
            request=request,
            metadata={"reason": error.describe()[:300]},
        )
        raise _problem("Registering the phone number failed", error) from None
    phone.is_registered = True
    phone.save(update_fields=["is_registered"])
    audit.record("whatsapp.phone_registered", actor=actor, tenant=phone.tenant_id, target=phone, request=request)
    return phone


# What platform staff may set on a number in the console: the rest mirrors Meta.
PHONE_STAFF_FIELDS = ("messaging_limit_tier", "send_rate_limit", "is_active")
_TIER = re.compile(r"^TIER_[0-9A-Z]+$")


@transaction.atomic
def phone_number_staff_update(*, phone: PhoneNumber, actor: Any, request: Any = None, **changes: Any) -> PhoneNumber:
    """Platform staff set a number's messaging tier, its send-rate cap or switch it off; audited
    with the before and after of each changed field."""
    unknown = set(changes) - set(PHONE_STAFF_FIELDS)
    if unknown:
        raise DomainError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    tier = changes.get("messaging_limit_tier")
    if tier and not _TIER.match(tier):
        raise DomainError("A messaging tier looks like TIER_1K, TIER_10K or TIER_UNLIMITED.")
    rate = changes.get("send_rate_limit")
    if rate is not None and not 1 <= rate <= 1000:
        raise DomainError("The send rate is between 1 and 1,000 messages per second (empty: Meta's level).")
    phone = PhoneNumber.objects.select_for_update().get(pk=phone.pk)
    changed = {
        field: [str(getattr(phone, field)), str(value)]
        for field, value in changes.items()
        if getattr(phone, field) != value
    }
    if not changed:
        return phone
    for field in changed:
        setattr(phone, field, changes[field])
    phone.save(update_fields=list(changed))
    if "is_active" in changed and not phone.is_active:
        # Switched off: its queued sends are skipped and its campaigns pause now, not at their turn.
        phone_numbers_stopped(phone_ids=[phone.pk])
    audit.record(
        "whatsapp.phone_number_updated",
        actor=actor,
        tenant=phone.tenant_id,
        target=phone,
        request=request,
        metadata={"changes": changed},
    )
    return phone


def account_disconnect(*, account: WhatsAppAccount, actor: Any, request: Any = None) -> WhatsAppAccount:
    """Stop here first, then tell Meta. One transaction stops the numbers, erases the token and
    pauses what depended on the numbers (queued sends skipped, campaigns paused: `phone_numbers_stopped`);
    only then are the numbers deregistered and the app unsubscribed, with the token still in memory,
    so a send in flight meets a number already stopped here rather than Meta's "not registered".
    Meta being down does not keep a workspace connected: what could not be undone at Meta is
    recorded in a second audit event."""
    with tenant_context(account.tenant_id):
        with transaction.atomic():
            client, registered = _account_stop(account=account, actor=actor, request=request)
        leftovers = _undo_at_meta(account, client, registered)
        if leftovers:
            audit.record(
                "whatsapp.disconnect_incomplete",
                actor=actor,
                tenant=account.tenant_id,
                target=account,
                request=request,
                metadata={"waba_id": account.waba_id, "not_undone_at_meta": leftovers},
            )
    return account


def _account_stop(*, account: WhatsAppAccount, actor: Any, request: Any) -> tuple[GraphClient | None, list[str]]:
    try:
        client: GraphClient | None = graph_for(account)
    except ConnectionProblem:
        client = None
    numbers = account.phone_numbers.filter(is_active=True)
    registered = list(numbers.filter(is_registered=True).values_list("phone_number_id", flat=True))
    stopping = list(numbers.values_list("pk", flat=True))
    now = timezone.now()
    account.phone_numbers.update(is_active=False, is_registered=False)
    account.tokens.update(token=None, is_current=False, status=AccessToken.Status.ERASED, erased_at=now)
    account.status = WhatsAppAccount.Status.DISCONNECTED
    account.disconnected_at = now
    account.webhooks_subscribed = False
    account.save(update_fields=["status", "disconnected_at", "webhooks_subscribed"])
    phone_numbers_stopped(phone_ids=stopping)
    audit.record(
        "whatsapp.disconnected",
        actor=actor,
        tenant=account.tenant_id,
        target=account,
        request=request,
        metadata={"waba_id": account.waba_id, "numbers": len(stopping)},
    )
    return client, registered


def _undo_at_meta(account: WhatsAppAccount, client: GraphClient | None, registered: list[str]) -> list[str]:
    if client is None:
        return ["This WhatsApp account had no usable token: nothing was undone at Meta."]
    leftovers = []
    for phone_number_id in registered:
        try:
            client.deregister_phone(phone_number_id)
        except GraphError as error:
            leftovers.append(f"deregister {phone_number_id}: {error.describe()[:120]}")
    try:
        client.unsubscribe_app(account.waba_id)
    except GraphError as error:
        leftovers.append(f"unsubscribe: {error.describe()[:120]}")
    return leftovers


def phone_numbers_stopped(*, phone_ids: list[int]) -> int:
    """After numbers were disconnected or deactivated (by a person, staff or Meta), in the same
    transaction: their queued one-off sends are skipped with the reason, and the layers above react
    through `fanout.number_stopped` (campaigns pause theirs). A number that may send again is left
    alone. The campaign engine's gate would notice on its own within a chunk; this makes it immediate
    and covers scheduled campaigns and held sends. Runs in a tenant's or the platform's context
    (Django admin). Returns how many numbers stopped."""
    from whatsapp import dispatch, fanout
    from whatsapp.selectors import sending_problem

    stopped = 0
    for phone in PhoneNumber.objects.select_related("account").filter(pk__in=phone_ids):
        reason = sending_problem(phone)
        if reason is None:
            continue
        with tenant_context(phone.tenant_id):
            dispatch.messages_skip_for_number(phone=phone, reason=reason)
            fanout.number_stopped(phone=phone, reason=reason)
        stopped += 1
    return stopped


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
    for field, value in _phone_fields(data).items():
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


# ---- token health and rotation ----------------------------------------------------------------

TOKEN_EXPIRY_WARNING_DAYS = 7


def token_health_check(*, token_row: AccessToken) -> str:
    """debug_token for one stored token; records its status and raises or resolves the tenant's alert."""
    from aerostic.core.alerts import raise_alert, resolve_alert

    account = token_row.account
    key = f"whatsapp-token:{token_row.pk}"
    now = timezone.now()
    with tenant_context(token_row.tenant_id):
        try:
            info = token_inspect(token_row.token.reveal(), mode=account.mode)
        except ConnectionProblem as problem:
            expired = token_row.expires_at is not None and token_row.expires_at <= now
            status = (
                AccessToken.Status.EXPIRED
                if expired
                else AccessToken.Status.SCOPE_MISSING
                if "missing these permissions" in problem.message
                else AccessToken.Status.INVALID
            )
            detail = problem.message
        else:
            token_row.scopes, token_row.expires_at = info.scopes, info.expires_at
            soon = info.expires_at is not None and info.expires_at - now < timedelta(days=TOKEN_EXPIRY_WARNING_DAYS)
            status = AccessToken.Status.EXPIRING if soon else AccessToken.Status.VALID
            detail = f"Expires {info.expires_at:%Y-%m-%d %H:%M} UTC." if soon else ""
        token_row.status, token_row.last_checked_at = status, now
        token_row.save(update_fields=["status", "last_checked_at", "scopes", "expires_at"])
        if status == AccessToken.Status.VALID:
            resolve_alert(tenant=token_row.tenant_id, key=key)
        else:
            raise_alert(
                tenant=token_row.tenant_id,
                key=key,
                level="warning" if status == AccessToken.Status.EXPIRING else "critical",
                title=f"WhatsApp token of {account}: {token_row.get_status_display().lower()}",
                detail=detail + " Reconnect the account or rotate its token.",
            )
            if status != AccessToken.Status.EXPIRING:
                account.status = WhatsAppAccount.Status.NEEDS_ATTENTION
                account.status_detail = detail[:255]
                account.save(update_fields=["status", "status_detail"])
    return status


def token_rotate(*, account: WhatsAppAccount, new_token: str, actor: Any, request: Any = None) -> AccessToken:
    """Replace an account's token: the new one must be valid, hold the scopes and see this WABA.
    The old ciphertext is erased in the same transaction; audited."""
    new_token = new_token.strip()
    info = token_inspect(new_token, mode=account.mode)
    try:
        GraphClient(token=new_token, base_url=base_url_for(account.mode)).get_waba(account.waba_id)
    except GraphError as error:
        raise _problem("The new token cannot see this WhatsApp Business Account", error) from None
    with tenant_context(account.tenant_id), transaction.atomic():
        now = timezone.now()
        account.tokens.filter(is_current=True).update(
            token=None, is_current=False, status=AccessToken.Status.ERASED, erased_at=now
        )
        fresh = AccessToken.objects.create(
            tenant_id=account.tenant_id,
            account=account,
            token=new_token,
            token_type=info.token_type,
            scopes=info.scopes,
            expires_at=info.expires_at,
            last_checked_at=now,
        )
        if account.status == WhatsAppAccount.Status.NEEDS_ATTENTION:
            account.status, account.status_detail = WhatsAppAccount.Status.CONNECTED, ""
            account.save(update_fields=["status", "status_detail"])
        audit.record(
            "whatsapp.token_rotated",
            actor=actor,
            tenant=account.tenant_id,
            target=account,
            request=request,
            metadata={"waba_id": account.waba_id, "key_id": fresh.key_id},
        )
    return fresh
