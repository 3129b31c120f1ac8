"""Writes of the kill-switches: every flip is audited in the same transaction."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from aerostic.core import audit
from compliance.models import PlatformSwitch


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
