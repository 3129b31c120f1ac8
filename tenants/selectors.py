"""Reads about tenants and memberships shared by views, API and middleware."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from accounts.roles import Role
from aerostic.core.tenant_context import platform_context
from tenants.models import Invitation, Membership, Tenant


def memberships_for_user(user) -> list[Membership]:
    """Every membership of `user` in an active tenant, across tenants (hence the platform scope)."""
    if not getattr(user, "is_authenticated", False):
        return []
    with platform_context("list a user's own memberships"):
        return list(
            Membership.all_tenants.filter(user=user, tenant__status=Tenant.Status.ACTIVE)
            .select_related("tenant")
            .order_by("tenant__name")
        )


def active_membership(
    user, preferred_tenant_id: int | None, *, memberships: list[Membership] | None = None
) -> Membership | None:
    """The preferred tenant's membership, else the first; `memberships` when already read."""
    memberships = memberships_for_user(user) if memberships is None else memberships
    for membership in memberships:
        if membership.tenant_id == preferred_tenant_id:
            return membership
    return memberships[0] if memberships else None


def membership_for_tenant_slug(user, slug: str) -> Membership | None:
    for membership in memberships_for_user(user):
        if membership.tenant.slug == slug:
            return membership
    return None


def member_list() -> QuerySet[Membership]:
    return Membership.objects.select_related("user").order_by("user__email")


def member_get(membership_id: int) -> Membership:
    """Same DoesNotExist for 'missing' and 'another tenant's': the scoped manager sees only ours."""
    return Membership.objects.select_related("user").get(pk=membership_id)


def invitation_pending_list() -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-created_at")


def admin_count() -> int:
    return Membership.objects.filter(role=Role.ADMIN, user__is_active=True).count()
