"""Changes to connected phone numbers: registering one with its PIN, what platform staff may set
(tier, send-rate cap, switched off), and disconnecting an account with what stops with its numbers
(queued sends skipped, the layers above told through `whatsapp.fanout`). Audited."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils import timezone

from aerostic.core import audit
from aerostic.core.errors import DomainError
from aerostic.core.tenant_context import tenant_context
from whatsapp import dispatch, fanout
from whatsapp.connections.clients import ConnectionProblem, graph_for, step_failed
from whatsapp.connections.tokens import mark_reauthorisation_needed
from whatsapp.graph import GraphAuthError, GraphClient, GraphError
from whatsapp.models import AccessToken, PhoneNumber, WhatsAppAccount
from whatsapp.selectors import sending_problem


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
        raise step_failed("Registering the phone number failed", error) from None
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
