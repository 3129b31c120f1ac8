"""Jobs of the inbox app."""

from __future__ import annotations

import logging

from aerostic.core.jobs import platform_job, tenant_job

logger = logging.getLogger(__name__)


@platform_job("create next months' message partitions")
def ensure_message_partitions() -> list[str]:
    from inbox.partitions import message_partitions_ensure

    return message_partitions_ensure(months_ahead=2)


@platform_job("wake snoozed conversations")
def wake_snoozed_conversations() -> int:
    from inbox.teamwork import snoozed_wake

    return snoozed_wake()


@tenant_job(atomic=False)
def mark_read_at_meta(*, tenant_id: int, phone_id: int, wamid: str) -> str:
    """Blue ticks for the customer: their message (and every earlier one) marked read at Meta."""
    from whatsapp.connections.clients import graph_for
    from whatsapp.graph import GraphError
    from whatsapp.models import PhoneNumber

    phone = PhoneNumber.objects.select_related("account").filter(pk=phone_id).first()
    if phone is None or not phone.is_active:
        return "number gone"
    try:
        graph_for(phone.account).mark_as_read(phone.phone_number_id, wamid)
    except GraphError as error:  # a read receipt is a courtesy: never retried into a storm
        logger.warning("read receipt refused: %s", error.describe())
        return "refused"
    return "read"
