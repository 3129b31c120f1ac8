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
