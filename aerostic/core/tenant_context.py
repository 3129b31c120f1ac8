"""The current tenant (or the explicit platform scope) for this request, job or command.

Held in contextvars and always restored in `finally`, so a pooled thread or an async task can
never carry one tenant into the next piece of work. The database side (RLS) reads the same state
through `aerostic.core.rls`, so the ORM filter and the Postgres policy always agree.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

_tenant_id: ContextVar[int | None] = ContextVar("aerostic_tenant_id", default=None)
_platform_reason: ContextVar[str | None] = ContextVar("aerostic_platform_reason", default=None)

F = TypeVar("F", bound=Callable[..., Any])


class NoTenantContext(RuntimeError):
    """A tenant-scoped query ran with no tenant set: a bug, never a reason to show all rows."""


@dataclass(frozen=True)
class Scope:
    tenant_id: int | None
    platform_reason: str | None

    @property
    def is_platform(self) -> bool:
        return self.platform_reason is not None


def current_scope() -> Scope:
    return Scope(tenant_id=_tenant_id.get(), platform_reason=_platform_reason.get())


def current_tenant_id() -> int | None:
    return _tenant_id.get()


def require_tenant_id() -> int:
    tenant_id = _tenant_id.get()
    if tenant_id is None:
        raise NoTenantContext(
            "No tenant is set. Wrap the work in aerostic.core.tenant_context.tenant_context(tenant) "
            "or, for platform code, use platform_context(reason) with the all_tenants manager."
        )
    return tenant_id


def in_platform_context() -> bool:
    return _platform_reason.get() is not None and _tenant_id.get() is None


def _as_id(tenant: Any) -> int:
    tenant_id = getattr(tenant, "pk", tenant)
    if not isinstance(tenant_id, int):
        raise TypeError(f"tenant_context needs a Tenant or its integer id, got {tenant!r}")
    return tenant_id


@contextmanager
def tenant_context(tenant: Any) -> Iterator[int]:
    """Run the block as `tenant`: ORM managers filter by it and Postgres RLS binds to it.

    Inside a platform context this narrows the scope to one tenant (platform access is off
    until the block ends), so per-tenant processing can never see another tenant's rows.
    """
    tenant_id = _as_id(tenant)
    tenant_token = _tenant_id.set(tenant_id)
    platform_token = _platform_reason.set(None)
    try:
        yield tenant_id
    finally:
        _platform_reason.reset(platform_token)
        _tenant_id.reset(tenant_token)


@contextmanager
def platform_context(reason: str) -> Iterator[None]:
    """Cross-tenant scope for Django admin, webhook routing and platform jobs only.

    The reason is required so every use is grep-able and readable in review.
    """
    if not reason:
        raise ValueError("platform_context needs a reason")
    tenant_token = _tenant_id.set(None)
    platform_token = _platform_reason.set(reason)
    try:
        yield
    finally:
        _platform_reason.reset(platform_token)
        _tenant_id.reset(tenant_token)


@contextmanager
def no_tenant_context() -> Iterator[None]:
    """Clear any scope (used by tests to prove that nothing is visible without one)."""
    tenant_token = _tenant_id.set(None)
    platform_token = _platform_reason.set(None)
    try:
        yield
    finally:
        _platform_reason.reset(platform_token)
        _tenant_id.reset(tenant_token)


def platform_scoped(reason: str) -> Callable[[F], F]:
    """Decorator form of platform_context."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with platform_context(reason):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
