"""What compliance reads of customers' WhatsApp conversations and messages. They are kept by an
app above compliance (DESIGN.md §1: the inbox), which registers these lookups from its
AppConfig.ready() with `register_conversation_lookups`; compliance calls them here and never names
that app. Used by the sending rules (the 24-hour window, the marketing frequency cap), the consent
signals of WhatsApp traffic (keywords, Meta's preferences and 131050 refusals) and GDPR.

The workspace's key of a WhatsApp customer (shared by conversations, preference events and status
events) is `contacts.phones.customer_index`, a layer below: compliance calls it directly. For a
number it is the contact's `phone_index`, so a contact's conversations and events are found by it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aerostic.core.registry import Slot
from contacts.models import Contact

# The direction value of an inbound message (the inbox's Message.Direction.INBOUND; a test holds them equal).
INBOUND = "in"


@dataclass(frozen=True)
class ConversationLookups:
    # contacts_of_conversations(conversation ids) -> {conversation id: its linked contact} (linked ones only)
    contacts_of_conversations: Callable[[Iterable[int]], dict[int, Contact]]
    # contact_of_customer(customer index) -> the contact a conversation of that customer links, or None
    contact_of_customer: Callable[[str], Contact | None]
    # contact_of_wamid(wamid) -> the contact of the conversation that message belongs to, or None
    contact_of_wamid: Callable[[str], Contact | None]
    # service_windows(contact) -> the contact's conversations (window_expires_at, last_inbound_at)
    service_windows: Callable[[Contact], Iterable[Any]]
    # marketing_messages_sent(contact, *, since, until) -> when each marketing message in (since, until] was created
    marketing_messages_sent: Callable[..., list[datetime]]


_LOOKUPS: Slot[ConversationLookups] = Slot("conversation lookups", filled_by="the inbox app")
register_conversation_lookups = _LOOKUPS.register
lookups = _LOOKUPS.get
