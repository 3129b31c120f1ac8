"""Reads of WhatsApp connections for the current tenant."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from whatsapp.models import PhoneNumber, WhatsAppAccount


def account_list(*, include_disconnected: bool = False) -> QuerySet[WhatsAppAccount]:
    accounts = WhatsAppAccount.objects.prefetch_related(
        Prefetch("phone_numbers", queryset=PhoneNumber.objects.filter(is_active=True).order_by("display_phone_number")),
    ).order_by("-connected_at")
    if not include_disconnected:
        accounts = accounts.exclude(status=WhatsAppAccount.Status.DISCONNECTED)
    return accounts


def account_get(account_id: int) -> WhatsAppAccount:
    return WhatsAppAccount.objects.exclude(status=WhatsAppAccount.Status.DISCONNECTED).get(pk=account_id)


def phone_get(phone_id: int) -> PhoneNumber:
    return PhoneNumber.objects.select_related("account").get(pk=phone_id, is_active=True)


def sending_problem(phone: PhoneNumber) -> str | None:
    """Why nothing may be sent from this number (its account disconnected, or the number
    deactivated by staff or Meta), or None. One wording for every sender: a one-off send skipped and
    a campaign paused for the same cause say the same thing."""
    if phone.account.status == WhatsAppAccount.Status.DISCONNECTED:
        return f"The WhatsApp number {phone.display_phone_number} was disconnected: reconnect it to send again."
    if not phone.is_active:
        return f"The WhatsApp number {phone.display_phone_number} was deactivated: nothing is sent from it."
    return None


def phone_sending_problem(phone_id: int) -> str | None:
    """`sending_problem` read fresh from the database (a running sender's copy of the row may be stale)."""
    phone = PhoneNumber.objects.select_related("account").filter(pk=phone_id).first()
    return "The WhatsApp number no longer exists." if phone is None else sending_problem(phone)


def dead_webhook_count() -> int:
    """Webhook events that failed every retry and wait for staff (platform-wide): the console's
    index, the readiness verdict and the dead-webhooks alert rule count the same rows."""
    from aerostic.core.tenant_context import platform_context
    from whatsapp.models import WebhookEvent

    with platform_context("dead webhook events"):
        return WebhookEvent.all_tenants.filter(status=WebhookEvent.Status.DEAD).count()
