"""Reads of the kill-switches. `sending_allowed` is what the dispatcher asks before every send."""

from __future__ import annotations

from dataclasses import dataclass

from compliance.models import PlatformSwitch
from tenants.models import Tenant


@dataclass(frozen=True)
class KillSwitchDecision:
    """May the workspace send at all (the kill-switches and its status), whoever the recipient;
    compliance.policy.ContactSendDecision answers for one contact, category and moment."""

    allowed: bool
    reason: str = ""


def sending_allowed(tenant_id: int) -> KillSwitchDecision:
    """Global switch first, then the tenant's own; read from the database on every call so a flip
    takes effect on the very next send of every worker."""
    switch = PlatformSwitch.objects.filter(pk=PlatformSwitch.SINGLETON_ID).first()
    if switch is not None and not switch.sending_enabled:
        return KillSwitchDecision(False, f"Sending is paused platform-wide: {switch.reason or 'no reason given'}")
    tenant = Tenant.objects.filter(pk=tenant_id).only("status", "sending_enabled", "sending_disabled_reason").first()
    if tenant is None:
        return KillSwitchDecision(False, "Unknown workspace.")
    if not tenant.is_active:
        return KillSwitchDecision(False, f"The workspace is {tenant.get_status_display().lower()}.")
    if not tenant.sending_enabled:
        return KillSwitchDecision(
            False, f"Sending is paused for this workspace: {tenant.sending_disabled_reason or 'no reason given'}"
        )
    return KillSwitchDecision(True)
