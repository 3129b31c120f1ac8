"""Whether a workspace may send right now, as its own pages show it (the dashboard, GET /api/v1/tenant/).

The answer is compliance's (the platform switch first, then the tenant's own kill-switch), a layer
above tenants: compliance registers its reader from its AppConfig.ready() (compliance.apps), so the
workspace pages show the state without tenants importing compliance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aerostic.core.registry import Slot

# reader(tenant_id) -> an object with `.allowed` (bool) and `.reason` (str)
_reader: Slot[Callable[[int], Any]] = Slot("sending-state reader", filled_by="the compliance app")
register_sending_reader = _reader.register


def sending_state(tenant_id: int) -> Any:
    return _reader.get()(tenant_id)
