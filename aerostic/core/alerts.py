"""Raise, resolve, acknowledge alerts (idempotent by key): `raise_alert(tenant=…, key=…, title=…)`.

Code raises and resolves an alert when it sees the problem start and clear (a webhook, a token
check) or when a rule's evaluation finds it (aerostic.core.alert_rules, through `alerts_sync`);
people acknowledge and resolve them by hand (audited). Notices to e-mail and Slack go out from
aerostic.core.alert_notices, once per open alert and once when it clears.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from aerostic.core import audit
from aerostic.core.errors import DomainError, NotFound
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


@dataclass(frozen=True)
class Firing:
    """One problem a rule sees now: the alert it keeps open."""

    tenant_id: int | None
    key: str
    title: str
    detail: str = ""
    level: str = Alert.Level.WARNING


def alerts_sync(*, prefix: str, firing: list[Firing]) -> tuple[int, int]:
    """A rule's verdict, for every workspace at once: the alerts under `prefix` that fire are open
    (created, or refreshed when their text changed), every other open one under `prefix` is
    resolved. A few statements whatever the number of workspaces. Returns (raised, resolved)."""
    wanted = {(item.tenant_id, item.key): item for item in firing}
    if any(not key.startswith(prefix) for _, key in wanted):
        raise ValueError(f"every key of this rule starts with {prefix!r}")
    now = timezone.now()
    with platform_context("alert rules"), transaction.atomic():
        current = {
            (alert.tenant_id, alert.key): alert
            for alert in Alert.all_tenants.filter(key__startswith=prefix, resolved_at__isnull=True)
        }
        cleared = [alert.pk for identity, alert in current.items() if identity not in wanted]
        resolved = Alert.all_tenants.filter(pk__in=cleared).update(resolved_at=now) if cleared else 0
        created = [
            Alert(tenant_id=item.tenant_id, key=item.key, title=item.title, detail=item.detail, level=item.level)
            for identity, item in wanted.items()
            if identity not in current
        ]
        Alert.all_tenants.bulk_create(created)
        changed = []
        for identity, item in wanted.items():
            alert = current.get(identity)
            if alert is not None and (alert.title, alert.detail, alert.level) != (item.title, item.detail, item.level):
                alert.title, alert.detail, alert.level, alert.updated_at = item.title, item.detail, item.level, now
                changed.append(alert)
        Alert.all_tenants.bulk_update(changed, ["title", "detail", "level", "updated_at"])
    return len(created), resolved


def _by_person(alert: Alert, *, action: str, actor: Any, request: Any, changes: dict[str, Any]) -> bool:
    """`changes` applied to the alert while it is open and the fields it sets are still empty."""
    with _scope(alert.tenant_id), transaction.atomic():
        unset = {f"{field}__isnull": True for field in changes}
        if not Alert.all_tenants.filter(pk=alert.pk, **{"resolved_at__isnull": True, **unset}).update(**changes):
            return False
        audit.record(
            action, actor=actor, tenant=alert.tenant_id, target=alert, request=request, metadata={"key": alert.key}
        )
        for field, value in changes.items():
            setattr(alert, field, value)
    return True


def alert_acknowledge(*, alert: Alert, actor: Any, request: Any = None) -> bool:
    """Someone is on it: the alert stays open (and clears by itself or by hand), marked with who
    took it. Audited. False when it was already acknowledged or resolved."""
    return _by_person(
        alert,
        action="alert.acknowledged",
        actor=actor,
        request=request,
        changes={"acknowledged_at": timezone.now(), "acknowledged_by": actor},
    )


def alert_resolve(*, alert: Alert, actor: Any, request: Any = None) -> bool:
    """Closed by hand (the problem is dealt with, or was not one). Audited. False when it was
    already resolved. A rule that still sees the problem opens a new alert at its next run."""
    return _by_person(
        alert,
        action="alert.resolved",
        actor=actor,
        request=request,
        changes={"resolved_at": timezone.now(), "resolved_by": actor},
    )


def alert_for_action(alert_id: Any) -> Alert:
    """One of the current workspace's alerts, for a person's action (a 4xx when there is none)."""
    try:
        return Alert.objects.get(pk=int(alert_id))
    except (Alert.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such alert in this workspace.") from None


def open_alerts() -> QuerySet[Alert]:
    """The current tenant's open alerts, most recent first."""
    return Alert.objects.filter(resolved_at__isnull=True).order_by("-updated_at")


def recent_alerts(*, state: str = "open") -> QuerySet[Alert]:
    """The current tenant's alerts for its Alerts page and API: `open`, `resolved` or `all`."""
    alerts = Alert.objects.select_related("acknowledged_by", "resolved_by").order_by("-updated_at", "-id")
    if state == "open":
        return alerts.filter(resolved_at__isnull=True)
    if state == "resolved":
        return alerts.filter(~Q(resolved_at=None))
    if state == "all":
        return alerts
    raise DomainError(f"Unknown state {state!r}: one of open, resolved, all.")
