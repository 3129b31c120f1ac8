"""Account writes: a password set or an account switched off revokes every API token of the user."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import User
from aerostic.core import audit


def user_tokens_revoke(*, user: User) -> int:
    """Blacklist the user's refresh tokens not yet blacklisted; returns how many.

    Access tokens need no list: they carry a hash of the password (simplejwt's CHECK_REVOKE_TOKEN)
    and die with it; deactivation is refused by CHECK_USER_IS_ACTIVE. The blacklist is what keeps a
    refresh token dead after the account is switched back on.
    """
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    entries = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    return len(entries)


@transaction.atomic
def user_password_set(
    *,
    user: User,
    password: str | None,
    actor: Any,
    request: HttpRequest | None = None,
    reason: str = "changed",
    tenant: Any = None,
) -> None:
    """Set (or, with None, disable) the password, revoke every token and audit it.

    `reason` names the path: "changed" (the user, knowing the old one), "reset" (e-mailed link),
    "set_by_staff" (platform console).
    """
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save(update_fields=["password"])
    _password_changed(user=user, actor=actor, request=request, tenant=tenant, reason=reason)


def _password_changed(*, user: User, actor: Any, request: HttpRequest | None, tenant: Any, reason: str) -> None:
    """What every password change ends with: the user's tokens revoked, one audit row."""
    revoked = user_tokens_revoke(user=user)
    audit.record(
        "auth.password_changed",
        actor=actor,
        target=user,
        request=request,
        tenant=tenant,
        metadata={"reason": reason, "refresh_tokens_revoked": revoked},
    )


@transaction.atomic
def user_password_set_by_staff(*, user: User, actor: Any, request: HttpRequest | None = None) -> None:
    """Staff set a password through Django's own admin form (which saved it): revoke and audit."""
    _password_changed(user=user, actor=actor, request=request, tenant=None, reason="set_by_staff")


@transaction.atomic
def user_deactivated(*, user: User, actor: Any, request: HttpRequest | None = None) -> None:
    """Record that staff switched an account off, and revoke its tokens so switching it back on
    does not revive them."""
    revoked = user_tokens_revoke(user=user)
    audit.record(
        "auth.user_deactivated",
        actor=actor,
        target=user,
        request=request,
        metadata={"refresh_tokens_revoked": revoked},
    )
