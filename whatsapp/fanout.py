"""Reactions of the layers above whatsapp to what happens to a connection, a template, a sent
message (the send path) or a message's webhooks (DESIGN §1), and the message store whatsapp
hands customers' messages to.

A higher app (inbox, campaigns, billing) registers its handlers from its `AppConfig.ready()`;
whatsapp calls every registered handler and never names or imports them, so the layers stay
one-way. The message store (inbox) is one registration, not a list: the webhook intake needs its
answers (which messages were new, which statuses re-deliveries) and the send rules read its
conversations for the 24-hour window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aerostic.core.registry import Slot

# handler(*, phone: PhoneNumber, reason: str): the number may no longer send, `reason` says why.
NumberStoppedHandler = Callable[..., Any]
# handler(*, template: MessageTemplate, reason: str): Meta paused or disabled the template.
TemplateStoppedHandler = Callable[..., Any]

# handler(*, phone: PhoneNumber, statuses: list[dict], found: dict): Meta's status objects for
# messages sent from `phone`, in the order they arrived (one batch of the webhook drainer), after
# the send path settled lost answers. Runs in the number's tenant context and the batch's
# transaction. `found` is the batch's notebook: what one handler looked up that a later one needs
# (campaigns' recipient rows, which billing prices), under a key its owner names, so each table is
# read once per batch.
StatusesHandler = Callable[..., Any]

_number_stopped: list[NumberStoppedHandler] = []
_template_stopped: list[TemplateStoppedHandler] = []
_statuses: list[StatusesHandler] = []


def on_number_stopped(handler: NumberStoppedHandler) -> NumberStoppedHandler:
    """Registers a reaction to a number that was disconnected or deactivated (once per handler)."""
    if handler not in _number_stopped:
        _number_stopped.append(handler)
    return handler


def number_stopped_handlers() -> tuple[NumberStoppedHandler, ...]:
    return tuple(_number_stopped)


def number_stopped(*, phone: Any, reason: str) -> None:
    """Runs every handler in the caller's transaction: the stop and its consequences commit together."""
    for handler in _number_stopped:
        handler(phone=phone, reason=reason)


def on_template_stopped(handler: TemplateStoppedHandler) -> TemplateStoppedHandler:
    """Registers a reaction to a template Meta paused or disabled (once per handler)."""
    if handler not in _template_stopped:
        _template_stopped.append(handler)
    return handler


def template_stopped(*, template: Any, reason: str) -> None:
    """Runs every handler in the caller's transaction."""
    for handler in _template_stopped:
        handler(template=template, reason=reason)


def on_statuses(handler: StatusesHandler) -> StatusesHandler:
    """Registers a consumer of status webhooks (once per handler)."""
    if handler not in _statuses:
        _statuses.append(handler)
    return handler


def statuses_received(*, phone: Any, statuses: list[dict[str, Any]]) -> None:
    """Hands a batch of statuses to every registered consumer (in the order they registered), each
    applying all of them at once."""
    found: dict[str, Any] = {}
    for handler in _statuses:
        handler(phone=phone, statuses=statuses, found=found)


# --- the send path: what it sent


@dataclass(frozen=True)
class SentItem:
    """One message the send path just sent (Meta answered with its wamid)."""

    to: str  # recipient digits (wa_id)
    wamid: str
    content: dict[str, Any]  # Graph message object without "to", e.g. {"type": "template", "template": {...}}
    category: str = ""  # MARKETING / UTILITY / AUTHENTICATION / SERVICE, kept as pricing_category
    contact_id: int | None = None
    index: str = ""  # the recipient's customer_index when the sender already has it (else computed)


# handler(*, phone: PhoneNumber, items: list[SentItem]): messages sent from `phone`, one call per
# chunk. Runs in the tenant's context and in the transaction that writes the sends' outcomes (the
# ledger's `sent` and what the handler keeps commit together).
SentHandler = Callable[..., Any]
_sent: list[SentHandler] = []


def on_sent(handler: SentHandler) -> SentHandler:
    """Registers a consumer of what the send path sent (once per handler)."""
    if handler not in _sent:
        _sent.append(handler)
    return handler


def sent(*, phone: Any, items: list[SentItem]) -> None:
    """Hands one batch of sent messages to every registered consumer, in the caller's transaction."""
    if not items:
        return
    for handler in _sent:
        handler(phone=phone, items=items)


# --- the message store: customers' messages and the statuses of ours


@dataclass(frozen=True)
class InboundItem:
    """One customer message of a `messages` webhook."""

    message: dict[str, Any]  # Meta's message object
    profile_name: str = ""  # the sender's profile name from the change's `contacts`


@dataclass(frozen=True)
class MessageStore:
    """What the message store (inbox) does for whatsapp. Each runs in the number's tenant context
    and the caller's transaction."""

    # (*, phone, items: list[InboundItem]) -> the stored message per item, None for a re-delivery
    inbound_many: Callable[..., list[Any]]
    # (*, statuses: list[dict]) -> per status "applied", "waiting", "duplicate" or "ignored"
    statuses_many: Callable[..., list[str]]
    # (*, phone, message: dict) -> the stored message, None for a re-delivery (coexistence echoes)
    echo: Callable[..., Any]
    # (*, phone, thread_id: str, message: dict) -> the stored message, None for a re-delivery
    history: Callable[..., Any]
    # (*, phone, indexes: set[str]) -> {customer index: conversation} (the 24-hour window, read by
    # compliance.policy's window rules), contacts loaded
    conversations: Callable[..., dict[str, Any]]


_store: Slot[MessageStore] = Slot("message store", filled_by="the inbox app")
register_message_store = _store.register
message_store = _store.get
