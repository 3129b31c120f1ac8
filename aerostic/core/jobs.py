"""Jobs helpers: enqueue only after commit, with ids only; run every job inside its scope.

    enqueue_on_commit(send_batch, queue="campaigns", tenant_id=t.id, batch_id=b.id)

    @tenant_job
    def send_batch(*, tenant_id: int, batch_id: int) -> None: ...

A job decorated with `tenant_job` refuses to run without a `tenant_id`, and runs inside
`tenant_context(tenant_id)` and one transaction; `platform_job(reason)` is the loud
cross-tenant variant for platform work (retention, sweeps).
"""

from __future__ import annotations

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


def tenant_job(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, tenant_id: int | None = None, **kwargs: Any) -> Any:
        if not isinstance(tenant_id, int) or isinstance(tenant_id, bool):
            raise TypeError(f"{func.__qualname__} is a tenant job and needs tenant_id=<int>.")
        with tenant_context(tenant_id), transaction.atomic():
            return func(*args, tenant_id=tenant_id, **kwargs)

    wrapper.is_tenant_job = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def platform_job(reason: str) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with platform_context(reason), transaction.atomic():
                return func(*args, **kwargs)

        wrapper.is_platform_job = True  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
