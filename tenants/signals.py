"""Audit of sign-in events (signals are used for audit only, per house style).

Here in tenants, not in core, because each event is tagged with the user's active workspace."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from aerostic.core import audit
from tenants.selectors import active_membership


def _tenant_of(request: Any, user: Any) -> int | None:
    membership = active_membership(user, None) if user is not None else None
    return membership.tenant_id if membership else None


@receiver(user_logged_in, dispatch_uid="audit_login")
def audit_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit.record("auth.login", actor=user, tenant=_tenant_of(request, user), target=user, request=request)


@receiver(user_logged_out, dispatch_uid="audit_logout")
def audit_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit.record("auth.logout", actor=user, tenant=_tenant_of(request, user), target=user, request=request)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def audit_login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    attempted = str(credentials.get("username") or credentials.get("email") or "")[:254]
    audit.record("auth.login_failed", request=request, metadata={"attempted_email": attempted})


@receiver(user_locked_out, dispatch_uid="audit_locked_out")
def audit_locked_out(sender: Any, request: Any, username: str | None = None, **kwargs: Any) -> None:
    audit.record("auth.locked_out", request=request, metadata={"attempted_email": (username or "")[:254]})
