"""Embedded Signup bookkeeping: sessions, what each learnt (from the browser's session info and the
code exchange), matching Meta's PARTNER_APP_INSTALLED callback to a workspace (the session that
reported the WABA → a session or account of the owner business → orphan for staff), assigning
orphans, expiring sessions.

Meta's callback carries only `waba_info` (waba_id, owner_business_id, partner ids): nothing of ours.
So the session has to learn the WABA first, from what Meta hands the browser (the FINISH message
of the Embedded Signup window: waba_id, phone_number_id, business_id) and from the code exchange.
The tracking code is only our key between the browser and the server."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from aerostic.core import audit
from aerostic.core.alerts import raise_alert, resolve_alert
from aerostic.core.errors import Conflict
from aerostic.core.tenant_context import platform_context, tenant_context
from whatsapp.models import OnboardingSession, OrphanConnection, WhatsAppAccount

SESSION_LIFETIME = timedelta(hours=1)


def onboarding_start(*, tenant: Any, actor: Any) -> OnboardingSession:
    with tenant_context(tenant):
        return OnboardingSession.objects.create(
            tenant=tenant,
            started_by=actor,
            tracking_code=secrets.token_urlsafe(24),
            expires_at=timezone.now() + SESSION_LIFETIME,
        )


def onboarding_session_info(
    *, tenant: Any, tracking_code: str, waba_id: str, business_id: str = "", phone_number_id: str = ""
) -> OnboardingSession | None:
    """The browser relays Embedded Signup's session info (its FINISH message) as soon as it arrives,
    before the code exchange: Meta's callback can then be matched even if the exchange never happens."""
    with tenant_context(tenant), transaction.atomic():
        session = (
            OnboardingSession.objects.select_for_update()
            .filter(tracking_code=tracking_code, status=OnboardingSession.Status.PENDING, expires_at__gt=timezone.now())
            .first()
        )
        if session is None:
            return None
        session.waba_id = waba_id or session.waba_id
        session.business_id = business_id or session.business_id
        session.phone_number_id = phone_number_id or session.phone_number_id
        session.save(update_fields=["waba_id", "business_id", "phone_number_id"])
        return session


def onboarding_complete(*, tenant: Any, tracking_code: str, account: WhatsAppAccount) -> None:
    """The code exchange connected the account: close its session with the WABA and owner business
    Meta showed to the exchanged token."""
    with tenant_context(tenant):
        OnboardingSession.objects.filter(tracking_code=tracking_code).exclude(
            status=OnboardingSession.Status.COMPLETED
        ).update(status=OnboardingSession.Status.COMPLETED, waba_id=account.waba_id, business_id=account.business_id)


def _live_sessions() -> Any:
    return OnboardingSession.all_tenants.select_for_update().filter(
        status=OnboardingSession.Status.PENDING, expires_at__gt=timezone.now()
    )


def _one_tenants_session(sessions: Any) -> OnboardingSession | None:
    """The newest of the sessions if they all belong to one workspace; when several workspaces
    claim the same WABA or business, nobody is guessed: staff decide (orphan)."""
    rows = list(sessions.order_by("-created_at"))
    if not rows or len({row.tenant_id for row in rows}) != 1:
        return None
    return rows[0]


@transaction.atomic
def onboarding_match(
    *,
    waba_id: str,
    owner_business_id: str = "",
    phone_number_ids: list[str] | None = None,
    source: str,
) -> tuple[str, Any]:
    """Meta reported a WABA that installed our app. Returns ("connected" | "session" | "business" |
    "orphan", the account / session / tenant id / orphan). Webhook routing calls this (platform scope)."""
    with platform_context("match an Embedded Signup callback to a workspace"):
        account = (
            WhatsAppAccount.all_tenants.filter(waba_id=waba_id)
            .exclude(status=WhatsAppAccount.Status.DISCONNECTED)
            .first()
        )
        if account is not None:
            return "connected", account
        session = _one_tenants_session(_live_sessions().filter(waba_id=waba_id)) if waba_id else None
        if session is None and owner_business_id:
            session = _one_tenants_session(_live_sessions().filter(business_id=owner_business_id))
        if session is not None:
            session.status, session.waba_id = OnboardingSession.Status.MATCHED, waba_id
            session.business_id = session.business_id or owner_business_id
            session.save(update_fields=["status", "waba_id", "business_id"])
            _tell_tenant_to_finish(session.tenant_id, waba_id)
            return "session", session
        if owner_business_id:
            tenants = set(
                WhatsAppAccount.all_tenants.filter(business_id=owner_business_id).values_list("tenant_id", flat=True)
            )
            if len(tenants) == 1:
                tenant_id = tenants.pop()
                _tell_tenant_to_finish(tenant_id, waba_id)
                return "business", tenant_id
        orphan, _ = OrphanConnection.objects.get_or_create(
            waba_id=waba_id,
            assigned_tenant=None,
            defaults={
                "owner_business_id": owner_business_id,
                "phone_number_ids": phone_number_ids or [],
                "source": source,
            },
        )
        raise_alert(
            tenant=None,
            key=f"orphan-waba:{waba_id}",
            title=f"Unclaimed WABA {waba_id}",
            detail="A WhatsApp Business Account installed the app but matched no workspace: assign it.",
        )
        return "orphan", orphan


def _tell_tenant_to_finish(tenant_id: int, waba_id: str) -> None:
    raise_alert(
        tenant=tenant_id,
        key=f"finish-waba:{waba_id}",
        level="info",
        title=f"Finish connecting WhatsApp Business Account {waba_id}",
        detail="Meta reports the sign-up; complete it on the WhatsApp page (Embedded Signup or a token).",
    )


@transaction.atomic
def orphan_assign(*, orphan: OrphanConnection, tenant: Any, actor: Any, request: Any = None) -> OrphanConnection:
    if orphan.assigned_tenant_id is not None:
        raise Conflict("This WABA was already assigned.")
    orphan.assigned_tenant, orphan.assigned_by, orphan.assigned_at = tenant, actor, timezone.now()
    orphan.save(update_fields=["assigned_tenant", "assigned_by", "assigned_at"])
    _tell_tenant_to_finish(tenant.pk, orphan.waba_id)
    resolve_alert(tenant=None, key=f"orphan-waba:{orphan.waba_id}")
    audit.record(
        "whatsapp.orphan_assigned", actor=actor, tenant=tenant, request=request, metadata={"waba_id": orphan.waba_id}
    )
    return orphan


def orphan_close_on_connect(*, account: WhatsAppAccount, actor: Any) -> int:
    """A workspace connected a WABA that Meta's callback had left as an orphan (the callback came
    before the browser reported its session): connecting proved access, so staff need not assign it."""
    with platform_context("close the orphan of a WABA a workspace just connected"):
        closed = OrphanConnection.objects.filter(waba_id=account.waba_id, assigned_tenant=None).update(
            assigned_tenant=account.tenant_id,
            assigned_by=actor if getattr(actor, "is_authenticated", False) else None,
            assigned_at=timezone.now(),
        )
        if closed:
            resolve_alert(tenant=None, key=f"orphan-waba:{account.waba_id}")
    return closed


def onboarding_sessions_expire() -> int:
    """Pending sessions past their time become expired; expired ones older than 30 days are deleted."""
    now = timezone.now()
    with platform_context("expire onboarding sessions"):
        expired = OnboardingSession.all_tenants.filter(
            status=OnboardingSession.Status.PENDING, expires_at__lte=now
        ).update(status=OnboardingSession.Status.EXPIRED)
        OnboardingSession.all_tenants.filter(
            status=OnboardingSession.Status.EXPIRED, expires_at__lt=now - timedelta(days=30)
        ).delete()
    return expired
