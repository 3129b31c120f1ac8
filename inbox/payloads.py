"""What a stored message keeps of Meta's message object: `Message.payload` names nobody.

The customer's number (`from` of what they send, `to` of what we send), the business number
(`context.from`, an echo's `from`) and Meta's user ids live on the conversation, encrypted or as a
blind index: the payload drops them. Two parts carry other people's numbers in their content and
are still worth showing an agent — shared contact cards (`contacts`: names, numbers, e-mails,
addresses) and system notices (`system`, e.g. "changed from <number> to <number>"): they are kept
whole in `Message.sealed_payload`, encrypted with the field key ring (so key rotation covers them),
and read back through `sealed_parts`. Everything else the inbox renders stays in the clear: type,
text, captions, media ids, locations, reactions, replies' ids, referrals, orders, interactive replies.
Every writer of Message rows goes through `payload_split` (inbox.rows.new_message).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inbox.models import Message

# Top-level keys naming the customer, the business number or their Meta ids.
IDENTITY_KEYS = frozenset(
    {"from", "to", "wa_id", "recipient_id", "from_user_id", "to_user_id", "recipient_user_id", "from_parent_user_id"}
)
# Parts whose content names other people: sealed whole.
SEALED_KEYS = ("contacts", "system")


def payload_split(message: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """(the payload to store in the clear, the JSON of the parts to seal or None)."""
    clear = {key: value for key, value in message.items() if key not in IDENTITY_KEYS and key not in SEALED_KEYS}
    context = message.get("context")
    if isinstance(context, dict):
        # A reply's context names who wrote the quoted message; its id is what the inbox needs.
        clear["context"] = {key: value for key, value in context.items() if key not in IDENTITY_KEYS}
    sealed = {key: message[key] for key in SEALED_KEYS if key in message}
    system = message.get("system")
    if isinstance(system, dict) and isinstance(system.get("type"), str):
        clear["system"] = {"type": system["type"]}  # what kind of notice, without who
    return clear, (json.dumps(sealed, ensure_ascii=False, separators=(",", ":")) if sealed else None)


def sealed_parts(message: Message) -> dict[str, Any]:
    """The sealed parts of a stored message (e.g. {"contacts": [...]}), decrypted; {} when none.
    For rendering the message to a member of its workspace, never for logs."""
    if not message.sealed_payload:
        return {}
    return json.loads(message.sealed_payload.reveal())
