"""The rows of the message store as Meta's objects become them: a wamid claimed once (its
`MessageKey`, which reserves the message's id and so makes every re-delivery a no-op) and the
unsaved `Message` built from Meta's message object. Shared by the inbound, outbound and status
writers (inbox.inbound, inbox.outbound, inbox.statuses)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aerostic.core.sqlrows import bound_cursor
from aerostic.core.values import meta_time
from inbox.models import Conversation, Message
from inbox.payloads import payload_split


def when(unix: Any) -> datetime:
    """When Meta says it happened, or now when the payload does not say."""
    return meta_time(unix) or datetime.now(tz=UTC)


def new_message(
    *,
    message_id: int,
    conversation: Conversation,
    direction: str,
    message: dict[str, Any],
    status: str,
    created_at: datetime,
) -> Message:
    """The unsaved row of a claimed wamid; `created_at` must be the one written to its MessageKey."""
    text = message.get("text", {}).get("body", "") if isinstance(message.get("text"), dict) else ""
    errors = message.get("errors") or []
    payload, sealed = payload_split(message)  # numbers live on the conversation, encrypted
    return Message(
        id=message_id,
        tenant_id=conversation.tenant_id,
        conversation=conversation,
        direction=direction,
        type=str(message.get("type") or "unknown"),
        wamid=str(message.get("id") or ""),
        body=str(text),
        payload=payload,
        sealed_payload=sealed,
        status=status,
        created_at=created_at,
        error_code=(errors[0].get("code") if errors and isinstance(errors[0], dict) else None),
        error_title=(str(errors[0].get("title", ""))[:255] if errors and isinstance(errors[0], dict) else ""),
        sent_at=created_at if direction == Message.Direction.OUTBOUND else None,
    )


# _CLAIM_WAMID for many wamids: RETURNING lists only the rows inserted, so a wamid already stored
# (or claimed by a concurrent job) is left out, and each message id is reserved with its claim.
# The ids are drawn in the order given (the subquery keeps nextval from being moved past the sort),
# so messages of the same second keep their order of arrival; the keys are inserted in wamid order,
# so two jobs claiming overlapping wamids wait for each other instead of deadlocking.
_CLAIM_WAMIDS = (
    "INSERT INTO inbox_messagekey (tenant_id, wamid, message_id, created_at)"
    " SELECT %s, claim.wamid, claim.message_id, claim.created_at FROM ("
    "SELECT wamid, created_at, nextval('inbox_message_id_seq') AS message_id"
    " FROM unnest(%s::varchar[], %s::timestamptz[]) WITH ORDINALITY AS given(wamid, created_at, position)"
    " ORDER BY position) AS claim"
    " ORDER BY claim.wamid"
    " ON CONFLICT (wamid) DO NOTHING RETURNING wamid, message_id"
)


def claim_wamids(tenant_id: int, claims: dict[str, datetime]) -> dict[str, int]:
    """{wamid: new message id} of the wamids that are new; `claims` gives each wamid the time of
    its message (its partition), in order of arrival. Empty wamids are skipped."""
    claims = {wamid: created_at for wamid, created_at in claims.items() if wamid}
    if not claims:
        return {}
    with bound_cursor() as cursor:
        cursor.execute(_CLAIM_WAMIDS, [tenant_id, list(claims), list(claims.values())])
        return dict(cursor.fetchall())
