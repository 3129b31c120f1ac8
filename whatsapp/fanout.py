"""Reactions of the layers above whatsapp to what happens to a connection (DESIGN §1).

A higher app (campaigns today) registers its handler from its `AppConfig.ready()`; whatsapp calls
every registered handler and never names or imports them, so the layers stay one-way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# handler(*, phone: PhoneNumber, reason: str): the number may no longer send, `reason` says why.
NumberStoppedHandler = Callable[..., Any]

_number_stopped: list[NumberStoppedHandler] = []


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
