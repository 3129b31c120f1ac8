"""RQ entry points of the compliance app: workspace erase, message-body retention, pending
WhatsApp marketing preferences."""

from __future__ import annotations

from typing import Any

from aerostic.core.jobs import platform_job
from compliance import privacy
from compliance.models import ComplianceSettings


@platform_job("gdpr: workspace erase", atomic=False)
def erase_tenant(*, tenant_id: int, actor_id: int | None = None) -> dict[str, Any]:
    """Queued by `privacy.tenant_erase_request` (Django admin). Never forced: the request closed
    the workspace first, and an active one is refused. Returns the per-table counts."""
    return privacy.tenant_erase(tenant_id=tenant_id, actor_id=actor_id)


@platform_job("retention: workspaces with a message retention", atomic=False)
def purge_expired_message_bodies() -> int:
    """Daily: clears old message bodies of every workspace that set a retention, one transaction
    per workspace (a failure in one leaves the others done). Returns how many messages were cleared."""
    tenant_ids = list(
        ComplianceSettings.all_tenants.filter(message_retention_days__isnull=False)
        .order_by("tenant_id")
        .values_list("tenant_id", flat=True)
    )
    return sum(privacy.retention_purge(tenant_id=tenant_id) for tenant_id in tenant_ids)


@platform_job("consent: workspaces with pending WhatsApp preferences", atomic=False)
def apply_pending_user_preferences() -> int:
    """Hourly: WhatsApp stop / resume signals kept before their customer was a contact (or before
    the ledger existed) become consent events once the contact exists."""
    from compliance.models import UserPreferenceEvent
    from compliance.services import user_preferences_apply_pending

    tenant_ids = list(
        UserPreferenceEvent.all_tenants.filter(applied_at__isnull=True)
        .order_by("tenant_id")
        .values_list("tenant_id", flat=True)
        .distinct()
    )
    return sum(user_preferences_apply_pending(tenant_id=tenant_id) for tenant_id in tenant_ids)
