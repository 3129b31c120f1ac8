"""Jobs of the inbox app."""

from __future__ import annotations

from aerostic.core.jobs import platform_job


@platform_job("create next months' message partitions")
def ensure_message_partitions() -> list[str]:
    from inbox.partitions import message_partitions_ensure

    return message_partitions_ensure(months_ahead=2)
