"""Raise and resolve alerts (idempotent by key): `raise_alert(tenant=…, key=…, title=…)`."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from aerostic.core import audit
from aerostic.core.models import Alert
from aerostic.core.tenant_context import platform_context, tenant_context


def _scope(tenant_id: int | None) -> Any:
    return tenant_context(tenant_id) if tenant_id is not None else platform_context("platform alert")


def raise_alert(*, tenant: Any, key: str, title: str, detail: str = "", level: str = Alert.Level.WARNING) -> Alert:
    tenant_id = getattr(tenant, "pk", tenant)
    with _scope(tenant_id):
        alert = Alert.all_tenants.filter(tenant_id=tenant_id, key=key, resolved_at__isnull=True).first()
        if alert is None:
            return Alert.all_tenants.create(tenant_id=tenant_id, key=key, title=title, detail=detail, level=level)
        alert.title, alert.detail, alert.level = title, detail, level
        alert.save(update_fields=["title", "detail", "level", "updated_at"])
        return alert


def resolve_alert(*, tenant: Any, key: str) -> int:
    tenant_id = getattr(tenant, "pk", tenant)
    with _scope(tenant_id):
        return Alert.all_tenants.filter(tenant_id=tenant_id, key=key, resolved_at__isnull=True).update(
            resolved_at=timezone.now()
        )


@transaction.atomic
def alert_resolve_by_staff(*, alert: Alert, actor: Any, request: Any = None) -> bool:
    """Platform staff close an alert by hand; audited. False when it was already resolved."""
    with _scope(alert.tenant_id):
        resolved = Alert.all_tenants.filter(pk=alert.pk, resolved_at__isnull=True).update(resolved_at=timezone.now())
        if resolved:
            audit.record(
                "alert.resolved",
                actor=actor,
                tenant=alert.tenant_id,
                target=alert,
                request=request,
                metadata={"key": alert.key},
            )
    return bool(resolved)


def open_alerts() -> QuerySet[Alert]:
    """The current tenant's open alerts, most recent first."""
    return Alert.objects.filter(resolved_at__isnull=True).order_by("-updated_at")
