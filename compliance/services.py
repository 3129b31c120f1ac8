"""Writes of the kill-switches: every flip is audited in the same transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from aerostic.core import audit
from compliance.models import PlatformSwitch, UserPreferenceEvent
from inbox.services import customer_index
from whatsapp.webhooks.values import digits, meta_time


@transaction.atomic
def platform_sending_set(*, enabled: bool, reason: str, actor: Any, request: Any = None) -> PlatformSwitch:
    if not enabled and not reason.strip():
        raise ValidationError({"reason": "Say why sending is being stopped."})
    switch, _ = PlatformSwitch.objects.select_for_update().get_or_create(pk=PlatformSwitch.SINGLETON_ID)
    previous = switch.sending_enabled
    switch.sending_enabled = enabled
    switch.reason = reason.strip()
    switch.changed_by = actor if getattr(actor, "is_authenticated", False) else None
    switch.save()
    audit.record(
        "killswitch.platform_" + ("on" if enabled else "off"),
        actor=actor,
        request=request,
        metadata={"previous": previous, "reason": switch.reason},
    )
    return switch


@transaction.atomic
def tenant_sending_set(*, tenant: Any, enabled: bool, reason: str, actor: Any, request: Any = None) -> Any:
    from tenants.models import Tenant

    if not enabled and not reason.strip():
        raise ValidationError({"sending_disabled_reason": "Say why sending is being stopped."})
    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    previous = locked.sending_enabled
    locked.sending_enabled = enabled
    locked.sending_disabled_reason = "" if enabled else reason.strip()
    locked.save(update_fields=["sending_enabled", "sending_disabled_reason", "updated_at"])
    audit.record(
        "killswitch.tenant_" + ("on" if enabled else "off"),
        actor=actor,
        tenant=locked,
        target=locked,
        request=request,
        metadata={"previous": previous, "reason": locked.sending_disabled_reason},
    )
    tenant.sending_enabled = locked.sending_enabled
    tenant.sending_disabled_reason = locked.sending_disabled_reason
    return locked


def user_preference_record(*, phone: Any, preference: dict[str, Any]) -> bool:
    """Keeps one `user_preferences` item; False when it was already kept (a re-delivery) or names
    no customer. Runs inside the tenant's context (webhook processing)."""
    wa_id = digits(preference.get("wa_id"))
    index = customer_index(wa_id=wa_id, user_id=preference.get("user_id", ""))
    value = str(preference.get("value") or "").lower()
    if not index or not value:
        return False
    occurred_at = meta_time(preference.get("timestamp")) or datetime.now(tz=UTC)
    try:
        with transaction.atomic():
            UserPreferenceEvent.objects.create(
                tenant_id=phone.tenant_id,
                phone_number=phone,
                customer_wa_id=wa_id,
                customer_index=index,
                category=str(preference.get("category") or "")[:64],
                value=value[:16],
                detail=str(preference.get("detail") or "")[:255],
                occurred_at=occurred_at,
            )
    except IntegrityError:
        return False
    return True
