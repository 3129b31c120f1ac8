"""Reactions of the layers above whatsapp to what happens to a connection, a template or a sent
message (status webhooks) (DESIGN §1).

A higher app (campaigns today) registers its handlers from its `AppConfig.ready()`; whatsapp calls
every registered handler and never names or imports them, so the layers stay one-way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
