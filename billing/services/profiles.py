"""The billing profile: one per workspace, created on first use; platform staff change it."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from aerostic.core import audit
from aerostic.core.errors import Conflict, DomainError, Forbidden
from aerostic.core.tenant_context import tenant_context
from billing.models import BillingProfile, LedgerEntry


def billing_profile_ensure(*, tenant: Any) -> BillingProfile:
    """The tenant's profile, created with the defaults (USD, postpaid) the first time it is needed."""
    tenant_id = getattr(tenant, "pk", tenant)
    with tenant_context(tenant_id):
        profile = BillingProfile.objects.filter(tenant_id=tenant_id).first()
        if profile is not None:
            return profile
        try:
            with transaction.atomic():
                return BillingProfile.objects.create(tenant_id=tenant_id)
        except IntegrityError:  # created by a concurrent job a moment ago
            return BillingProfile.objects.get(tenant_id=tenant_id)


_PROFILE_FIELDS = {"currency", "prepaid", "credit_limit_micros", "cycle_day"}


@transaction.atomic
def billing_profile_update(*, tenant: Any, actor: Any, request: Any = None, **changes: Any) -> BillingProfile:
    """Platform staff set a workspace's currency, prepaid flag, credit limit and cycle day (audited).

    The currency changes only while the ledger is empty: amounts in two currencies would not add up.
    A new cycle day applies from the next entry on; entries keep the cycle they were written in.
    `actor` None is the system (a command, a job); a person must be platform staff: these settings are
    the platform's controls over a workspace, never the workspace's own."""
    if actor is not None and not getattr(actor, "is_staff", False):
        raise Forbidden("Only platform staff change a workspace's billing settings.")
    unknown = set(changes) - _PROFILE_FIELDS
    if unknown:
        raise DomainError(f"Unknown billing setting(s): {', '.join(sorted(unknown))}.")
    profile = billing_profile_ensure(tenant=tenant)
    with tenant_context(profile.tenant_id):
        locked = BillingProfile.objects.select_for_update().get(pk=profile.pk)
        before = {name: getattr(locked, name) for name in changes}
        for name, cast in (("prepaid", _as_bool), ("credit_limit_micros", int), ("cycle_day", int)):
            if name in changes:
                try:
                    changes[name] = cast(changes[name])
                except (TypeError, ValueError):
                    raise DomainError(f"{name.replace('_', ' ')}: {changes[name]!r} is not a valid value.") from None
        if "currency" in changes:
            currency = str(changes["currency"] or "").upper()
            if len(currency) != 3 or not currency.isalpha():
                raise DomainError("The currency is a three-letter ISO code, e.g. USD.")
            if currency != locked.currency and LedgerEntry.objects.exists():
                raise Conflict("The currency cannot change once the ledger has entries.")
            changes["currency"] = currency
        if "credit_limit_micros" in changes and changes["credit_limit_micros"] < 0:
            raise DomainError("The credit limit cannot be negative (it is how far below zero a balance may go).")
        if "cycle_day" in changes and not 1 <= changes["cycle_day"] <= 28:
            raise DomainError("The billing cycle starts on a day from 1 to 28.")
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.save()
        changed = {name: [before[name], getattr(locked, name)] for name in changes if before[name] != changes[name]}
        if changed:
            audit.record(
                "billing.profile_update",
                actor=actor,
                tenant=locked.tenant_id,
                target=locked,
                request=request,
                metadata={"changed": changed},
            )
    return locked


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
