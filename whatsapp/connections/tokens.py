"""The tokens of connected accounts: inspecting one with debug_token (only system-user tokens with
the WhatsApp scopes pass), marking an account whose token Meta refused, the nightly health check
and rotation. Every change a person makes is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from aerostic.core import audit
from aerostic.core.alerts import raise_alert, resolve_alert
from aerostic.core.tenant_context import tenant_context
from whatsapp.connections.clients import ConnectionProblem, base_url_for, step_failed
from whatsapp.graph import GraphClient, GraphError
from whatsapp.graph.client import app_token
from whatsapp.models import AccessToken, WhatsAppAccount

REQUIRED_SCOPES = ("whatsapp_business_messaging", "whatsapp_business_management")
# debug_token's `type` of the only tokens a solution partner may hold for a business: a system
# user's, including the business integration system user Embedded Signup's code exchange creates.
ACCEPTED_TOKEN_TYPES = ("SYSTEM_USER",)


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
        raise step_failed("Meta could not check the token", error) from None
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


def mark_reauthorisation_needed(account: WhatsAppAccount, error: GraphError) -> None:
    """Meta refused the token (190): the account needs a new one; tell the tenant's admins."""
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


def token_health_check(*, token_row: AccessToken) -> str:
    """debug_token for one stored token; records its status and raises or resolves the tenant's alert."""
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
            soon = info.expires_at is not None and info.expires_at - now < timedelta(
                days=settings.ALERT_THRESHOLDS.token_expiry_days
            )
            status = AccessToken.Status.EXPIRING if soon else AccessToken.Status.VALID
            detail = f"Expires {info.expires_at:%Y-%m-%d %H:%M} UTC." if soon else ""
        token_row.status, token_row.last_checked_at = status, now
        token_row.save(update_fields=["status", "last_checked_at", "scopes", "expires_at"])
        if status in (AccessToken.Status.VALID, AccessToken.Status.EXPIRING):
            # An expiry is the token-expiry alert rule's (whatsapp.alert_rules), from expires_at.
            resolve_alert(tenant=token_row.tenant_id, key=key)
        else:
            raise_alert(
                tenant=token_row.tenant_id,
                key=key,
                level="critical",
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
        raise step_failed("The new token cannot see this WhatsApp Business Account", error) from None
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
