"""Whether a workspace may send right now, as its own pages show it (the dashboard, GET /api/v1/tenant/).

The answer is compliance's (the platform switch first, then the tenant's own kill-switch), a layer
above tenants: compliance registers its reader from its AppConfig.ready() (compliance.apps), so the
workspace pages show the state without tenants importing compliance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured

_reader: Callable[[int], Any] | None = None


def register_sending_reader(reader: Callable[[int], Any]) -> None:
    """`reader(tenant_id)` answers an object with `.allowed` (bool) and `.reason` (str)."""
    global _reader
    _reader = reader


def sending_state(tenant_id: int) -> Any:
    if _reader is None:
        raise ImproperlyConfigured("No sending-state reader registered (compliance.apps registers it).")
    return _reader(tenant_id)
