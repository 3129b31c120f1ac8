"""Explicit audit events: `record(...)` for sign-ins, role changes, token rotations, kill-switch flips.

Call it inside the same transaction as the change it describes. Metadata must never hold message
bodies, tokens or full phone numbers; keys that look like those are refused loudly.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from aerostic.core.clientip import client_ip
from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import platform_context, tenant_context

_FORBIDDEN_METADATA_KEYS = {"body", "text", "message", "token", "access_token", "password", "secret", "phone"}


def record(
    action: str,
    *,
    actor: Any = None,
    tenant: Any = None,
    target: Any = None,
    request: HttpRequest | None = None,
    ip: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> AuditEvent:
    metadata = dict(metadata or {})
    forbidden = _FORBIDDEN_METADATA_KEYS.intersection(key.lower() for key in metadata)
    if forbidden:
        raise ValueError(f"Audit metadata may not carry {', '.join(sorted(forbidden))}.")
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    event = AuditEvent(
        action=action,
        actor=actor_obj,
        actor_email=getattr(actor_obj, "email", "") or "",
        ip_address=ip or client_ip(request),
        metadata=metadata,
    )
    if target is not None:
        event.target_type = target._meta.label_lower
        event.target_id = str(target.pk)
        event.target_repr = str(target)[:200]
    tenant_id = getattr(tenant, "pk", tenant)
    if tenant_id is None:
        with platform_context("audit: platform-wide event"):
            event.save()
    else:
        event.tenant_id = tenant_id
        with tenant_context(tenant_id):
            event.save()
    return event
