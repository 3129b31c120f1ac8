"""Jobs helpers: enqueue only after commit, with ids only; run every job inside its scope.

    enqueue_on_commit(send_batch, queue="campaigns", tenant_id=t.id, batch_id=b.id)

    @tenant_job
    def send_batch(*, tenant_id: int, batch_id: int) -> None: ...

Every job has one of these two shapes. A job decorated with `tenant_job` refuses to run without
a `tenant_id`, and runs inside `tenant_context(tenant_id)` and one transaction; `platform_job(reason)`
is the loud cross-tenant variant for platform work (retention, sweeps). `atomic=False` leaves the
transactions to the job, for work that must commit as it goes: a send's claim commits before Meta
is called, an import commits batch by batch, a per-workspace sweep commits workspace by workspace.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction

from aerostic.core import queues
from aerostic.core.tenant_context import platform_context, tenant_context

F = TypeVar("F", bound=Callable[..., Any])

_PLAIN_TYPES = (str, int, float, bool, type(None), uuid.UUID, datetime, date)


def _check_plain(name: str, value: Any) -> None:
    if isinstance(value, _PLAIN_TYPES):
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_plain(name, item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _check_plain(f"{name}.{key}", item)
        return
    raise TypeError(
        f"Job argument {name!r} is a {type(value).__name__}: pass ids and plain values, the job re-reads rows itself."
    )


def enqueue_on_commit(func: Callable[..., Any], *, queue: str = "default", **kwargs: Any) -> None:
    """Enqueue `func(**kwargs)` once the surrounding transaction commits (never if it rolls back)."""
    if queue not in settings.QUEUE_NAMES:
        raise ValueError(f"Unknown queue {queue!r}; queues are {settings.QUEUE_NAMES}.")
    for name, value in kwargs.items():
        _check_plain(name, value)

    def _enqueue() -> None:
        queues.get_queue(queue).enqueue(func, **kwargs)

    transaction.on_commit(_enqueue)


def _transaction(atomic: bool) -> Any:
    return transaction.atomic() if atomic else contextlib.nullcontext()


def tenant_job(func: F | None = None, *, atomic: bool = True) -> Any:
    """`@tenant_job` or `@tenant_job(atomic=False)`: the job runs in its tenant's scope (and one
    transaction unless `atomic=False`); without an int `tenant_id` it refuses to run."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, tenant_id: int | None = None, **kwargs: Any) -> Any:
            if not isinstance(tenant_id, int) or isinstance(tenant_id, bool):
                raise TypeError(f"{func.__qualname__} is a tenant job and needs tenant_id=<int>.")
            with tenant_context(tenant_id), _transaction(atomic):
                return func(*args, tenant_id=tenant_id, **kwargs)

        wrapper.is_tenant_job = True  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate(func) if func is not None else decorate


def platform_job(reason: str, *, atomic: bool = True) -> Callable[[F], F]:
    """`@platform_job(reason)`: the job runs in a platform context (and one transaction unless
    `atomic=False`; a tenant_context inside it narrows the scope to one workspace)."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with platform_context(reason), _transaction(atomic):
                return func(*args, **kwargs)

        wrapper.is_platform_job = True  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
