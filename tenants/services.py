"""Writes about tenants and their teams: create, invite, accept, change role, remove, settings."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from accounts.roles import Role
from aerostic.core import audit
from aerostic.core.errors import Conflict, NotFound
from aerostic.core.tenant_context import platform_context, tenant_context
from tenants.models import Invitation, Membership, Tenant
from tenants.selectors import admin_count


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "workspace"
    slug, counter = base, 2
    while Tenant.objects.filter(slug=slug).exists():
        slug = f"{base}-{counter}"
        counter += 1
    return slug


@transaction.atomic
def tenant_create(*, name: str, owner: Any, actor: Any = None, slug: str | None = None) -> Tenant:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "A workspace needs a name."})
    tenant = Tenant.objects.create(name=name, slug=slug or _unique_slug(name))
    with tenant_context(tenant):
        Membership.objects.create(tenant=tenant, user=owner, role=Role.ADMIN)
        audit.record("tenant.created", actor=actor or owner, tenant=tenant, target=tenant)
    return tenant


@transaction.atomic
def tenant_settings_update(*, tenant: Tenant, actor: Any, request: Any = None, **changes: Any) -> Tenant:
    allowed = {"name", "timezone", "default_country"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(f"These settings cannot be changed here: {', '.join(sorted(unknown))}.")
    before = {field: getattr(tenant, field) for field in changes}
    for field, value in changes.items():
        setattr(tenant, field, value)
    tenant.full_clean()
    tenant.save(update_fields=[*changes, "updated_at"])
    changed = {field: [str(before[field]), str(value)] for field, value in changes.items() if before[field] != value}
    if changed:
        audit.record(
            "tenant.settings_changed",
            actor=actor,
            tenant=tenant,
            target=tenant,
            request=request,
            metadata={"changes": changed},
        )
    return tenant


# What platform staff may set on a workspace in the console; the kill-switch has its own service
# (compliance.services.tenant_sending_set), erasing has compliance.privacy.tenant_erase_request.
TENANT_PLATFORM_FIELDS = (
    "name",
    "slug",
    "status",
    "messages_per_minute",
    "campaign_sends_per_day",
    "timezone",
    "default_country",
)


@transaction.atomic
def tenant_platform_update(*, tenant: Tenant, actor: Any, request: Any = None, **changes: Any) -> Tenant:
    """Platform staff edit a workspace's identity, status and sending limits; audited with the
    before and after of each changed field."""
    unknown = set(changes) - set(TENANT_PLATFORM_FIELDS)
    if unknown:
        raise ValidationError(f"These settings cannot be changed here: {', '.join(sorted(unknown))}.")
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    before = {field: getattr(tenant, field) for field in changes}
    for field, value in changes.items():
        setattr(tenant, field, value)
    tenant.full_clean()
    changed = {field: [str(before[field]), str(value)] for field, value in changes.items() if before[field] != value}
    if not changed:
        return tenant
    tenant.save(update_fields=[*changed, "updated_at"])
    audit.record(
        "tenant.platform_settings_changed",
        actor=actor,
        tenant=tenant,
        target=tenant,
        request=request,
        metadata={"changes": changed},
    )
    return tenant


@transaction.atomic
def tenant_platform_create(*, actor: Any, request: Any = None, **fields: Any) -> Tenant:
    """A workspace made by platform staff in the console (its members are added beside it)."""
    unknown = set(fields) - set(TENANT_PLATFORM_FIELDS)
    if unknown:
        raise ValidationError(f"These settings cannot be set here: {', '.join(sorted(unknown))}.")
    tenant = Tenant(**fields)
    tenant.full_clean()
    tenant.save()
    audit.record("tenant.created", actor=actor, tenant=tenant, target=tenant, request=request)
    return tenant


@transaction.atomic
def invitation_create(
    *, tenant: Tenant, email: str, role: str, actor: Any, request: Any = None
) -> tuple[Invitation, str]:
    """Returns the invitation and the one-time token (only its hash is stored)."""
    email = email.strip().lower()
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}."})
    if Membership.objects.filter(user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is already a member of this workspace."})
    now = timezone.now()
    # A new invitation replaces any pending one for the same address.
    Invitation.objects.filter(email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        tenant=tenant,
        email=email,
        role=role,
        token_hash=_token_hash(token),
        invited_by=actor,
        expires_at=now + timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    link = settings.SITE_URL + reverse("invitations:accept", args=[token])
    context = {
        "tenant": tenant,
        "inviter": actor,
        "link": link,
        "role": invitation.get_role_display(),
        "days": settings.INVITATION_VALID_DAYS,
    }
    transaction.on_commit(
        lambda: send_mail(
            subject=f"You are invited to {tenant.name} on Aerostic",
            message=render_to_string("tenants/email/invitation.txt", context),
            from_email=None,
            recipient_list=[email],
        )
    )
    audit.record(
        "team.invited",
        actor=actor,
        tenant=tenant,
        target=invitation,
        request=request,
        metadata={"email": email, "role": role},
    )
    return invitation, token


def invitation_find(token: str) -> Invitation | None:
    """The pending invitation for a token, whatever its tenant (the invitee is not a member yet)."""
    with platform_context("resolve an invitation link"):
        invitation = Invitation.all_tenants.select_related("tenant").filter(token_hash=_token_hash(token)).first()
    if invitation is None or not invitation.is_pending(timezone.now()) or not invitation.tenant.is_active:
        return None
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: Any, request: Any = None) -> Membership:
    invitation = invitation_find(token)
    if invitation is None:
        raise NotFound("This invitation link is invalid or has expired. Ask for a new one.")
    if invitation.email.lower() != user.email.lower():
        raise ValidationError(f"This invitation was sent to {invitation.email}; sign in with that address.")
    with tenant_context(invitation.tenant_id):
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at is not None:
            raise Conflict("This invitation was already used.")
        try:
            with transaction.atomic():
                membership = Membership.objects.create(tenant_id=locked.tenant_id, user=user, role=locked.role)
        except IntegrityError:
            raise Conflict("You are already a member of this workspace.") from None
        locked.accepted_at = timezone.now()
        locked.accepted_by = user
        locked.save(update_fields=["accepted_at", "accepted_by"])
        audit.record(
            "team.joined",
            actor=user,
            tenant=locked.tenant_id,
            target=membership,
            request=request,
            metadata={"role": locked.role},
        )
    return membership


@transaction.atomic
def invitation_accept_as_new_user(*, token: str, full_name: str, password: str, request: Any = None) -> Membership:
    invitation = invitation_find(token)
    if invitation is None:
        raise NotFound("This invitation link is invalid or has expired. Ask for a new one.")
    user_model = get_user_model()
    if user_model.objects.filter(email__iexact=invitation.email).exists():
        raise Conflict("An account with this e-mail exists: sign in to accept the invitation.")
    user = user_model.objects.create_user(email=invitation.email, password=password, full_name=full_name.strip())
    return invitation_accept(token=token, user=user, request=request)


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: Any, request: Any = None) -> None:
    if invitation.accepted_at is not None:
        raise Conflict("This invitation was already accepted.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit.record(
        "team.invitation_revoked",
        actor=actor,
        tenant=invitation.tenant_id,
        target=invitation,
        request=request,
        metadata={"email": invitation.email},
    )


def _refuse_losing_last_admin(membership: Membership) -> None:
    if membership.role == Role.ADMIN and admin_count() <= 1:
        raise Conflict("A workspace needs at least one admin: make someone else admin first.")


@transaction.atomic
def membership_role_change(*, membership: Membership, role: str, actor: Any, request: Any = None) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}."})
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == role:
        return membership
    if role != Role.ADMIN:
        _refuse_losing_last_admin(membership)
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit.record(
        "team.role_changed",
        actor=actor,
        tenant=membership.tenant_id,
        target=membership,
        request=request,
        metadata={"from": previous, "to": role, "member": membership.user.email},
    )
    return membership


@transaction.atomic
def membership_add(*, user: Any, role: str, actor: Any, request: Any = None) -> Membership:
    """Platform staff put a user into the current workspace directly (members otherwise join by
    invitation)."""
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}."})
    if Membership.objects.filter(user=user).exists():
        raise Conflict(f"{user.email} is already a member of this workspace.")
    membership = Membership.objects.create(user=user, role=role)
    audit.record(
        "team.member_added",
        actor=actor,
        tenant=membership.tenant_id,
        target=membership,
        request=request,
        metadata={"member": user.email, "role": role},
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: Any, request: Any = None) -> None:
    membership = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
    _refuse_losing_last_admin(membership)
    email = membership.user.email
    audit.record(
        "team.member_removed",
        actor=actor,
        tenant=membership.tenant_id,
        target=membership,
        request=request,
        metadata={"member": email, "role": membership.role},
    )
    membership.delete()
