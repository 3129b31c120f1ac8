"""Connecting WhatsApp Business Accounts: sandbox, manual system-user token, Embedded Signup. The
token is checked, the WABA and its numbers read, the app subscribed and a number registered before
anything is stored, in one transaction; every outcome is audited and nothing half-made stays."""

from __future__ import annotations

import logging
from typing import Any

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from aerostic.core import audit
from aerostic.core.errors import Conflict, DomainError
from aerostic.core.tenant_context import platform_context, tenant_context
from whatsapp.connections.clients import ConnectionProblem, base_url_for, refuse_production_waba, step_failed
from whatsapp.connections.onboarding import orphan_close_on_connect
from whatsapp.connections.tokens import token_inspect
from whatsapp.graph import GraphClient, GraphError
from whatsapp.message_templates.services import templates_sync
from whatsapp.models import AccessToken, PhoneNumber, WhatsAppAccount

logger = logging.getLogger(__name__)

SANDBOX_PIN = "123456"


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


def phone_fields(data: dict[str, Any]) -> dict[str, Any]:
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
        refuse_production_waba(waba_id, mode)
        info = token_inspect(token, mode=mode)
        client = GraphClient(token=token, base_url=base_url_for(mode), breaker_key=f"waba:{waba_id}")
        try:
            waba = client.get_waba(waba_id)
            numbers = client.list_phone_numbers(waba_id)
        except GraphError as error:
            raise step_failed("Meta would not show this WhatsApp Business Account", error) from None
        if not numbers:
            raise ConnectionProblem("This WhatsApp Business Account has no phone number yet: add one in Meta first.")
        _refuse_if_connected_elsewhere(waba_id, [str(n["id"]) for n in numbers])
        try:
            client.subscribe_app(waba_id)
        except GraphError as error:
            raise step_failed("Subscribing Aerostic to the account's webhooks failed", error) from None
        registered = set()
        if register_phone_id:
            try:
                client.register_phone(register_phone_id, pin=pin or "")
            except GraphError as error:
                raise step_failed("Registering the phone number failed", error) from None
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
                fields = phone_fields(number)
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
        refuse_production_waba(waba_id, WhatsAppAccount.Mode.REAL)
    except ConnectionProblem as problem:
        _audit_failure(tenant, actor, request, waba_id, "embedded_signup", problem.message)
        raise
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
