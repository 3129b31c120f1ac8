"""What tells open inbox pages that something changed, without reading the database: a version per
workspace (any conversation of it changed: the list and unread counts are stale) and one per
conversation (its timeline is stale), kept in Redis and bumped after the change commits. Pages poll
`changes_since` every 2 seconds; an unchanged page costs one Redis round trip and no query.

Also who is typing where (the collision notice): a short-lived entry per agent and conversation.

Redis is a notice board here, never the truth: a bump lost to a Redis outage only delays a page
until the next change, and the page still reloads in full when asked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from django.db import transaction

from aerostic.core import queues

logger = logging.getLogger(__name__)

TYPING_SECONDS = 6  # an agent counts as typing this long after their last keystroke notice
_KEEP_SECONDS = 2 * 24 * 3600  # versions of a quiet workspace are forgotten (a page then reloads)


def _workspace_key(tenant_id: int) -> str:
    return f"aerostic:inbox:{tenant_id}:version"


def _conversations_key(tenant_id: int) -> str:
    return f"aerostic:inbox:{tenant_id}:conversations"


def _typing_key(tenant_id: int, conversation_id: int) -> str:
    return f"aerostic:inbox:{tenant_id}:typing:{conversation_id}"


def conversations_changed(tenant_id: int, conversation_ids: Iterable[int]) -> None:
    """Bumps the versions once the caller's transaction commits (at once outside one)."""
    ids = sorted(set(conversation_ids))
    if ids:
        transaction.on_commit(partial(_bump, tenant_id, ids), robust=True)


def _bump(tenant_id: int, conversation_ids: list[int]) -> None:
    try:
        pipe = queues.redis_connection().pipeline(transaction=False)
        pipe.incr(_workspace_key(tenant_id))
        pipe.expire(_workspace_key(tenant_id), _KEEP_SECONDS)
        for conversation_id in conversation_ids:
            pipe.hincrby(_conversations_key(tenant_id), str(conversation_id), 1)
        pipe.expire(_conversations_key(tenant_id), _KEEP_SECONDS)
        pipe.execute()
    except Exception:  # a notice board: pages catch up on the next change
        logger.warning("inbox change notice lost", exc_info=True)


@dataclass(frozen=True)
class Versions:
    workspace: int
    conversation: int | None  # None when no conversation was asked about

    @property
    def token(self) -> str:
        """What a page keeps and sends back: both versions in one opaque string."""
        return f"{self.workspace}.{self.conversation or 0}"


def versions(tenant_id: int, conversation_id: int | None = None) -> Versions:
    try:
        pipe = queues.redis_connection().pipeline(transaction=False)
        pipe.get(_workspace_key(tenant_id))
        if conversation_id is not None:
            pipe.hget(_conversations_key(tenant_id), str(conversation_id))
        answers = pipe.execute()
    except Exception:
        logger.warning("inbox change versions unreadable", exc_info=True)
        return Versions(workspace=-1, conversation=None if conversation_id is None else -1)
    workspace = int(answers[0] or 0)
    conversation = int(answers[1] or 0) if conversation_id is not None else None
    return Versions(workspace=workspace, conversation=conversation)


def typing_note(tenant_id: int, conversation_id: int, user_id: int, name: str) -> None:
    """The agent is typing in this conversation (sent by the composer at most every few seconds)."""
    key = _typing_key(tenant_id, conversation_id)
    try:
        pipe = queues.redis_connection().pipeline(transaction=False)
        pipe.hset(key, str(user_id), f"{time.time() + TYPING_SECONDS:.0f}|{name[:80]}")
        pipe.expire(key, TYPING_SECONDS * 2)
        pipe.execute()
    except Exception:
        logger.warning("typing notice lost", exc_info=True)


def typists(tenant_id: int, conversation_id: int, *, except_user: int) -> list[str]:
    """Names of the other agents typing in this conversation now."""
    try:
        entries = queues.redis_connection().hgetall(_typing_key(tenant_id, conversation_id))
    except Exception:
        return []
    now = time.time()
    names = []
    for user_id, value in entries.items():
        until, _, name = (value.decode() if isinstance(value, bytes) else value).partition("|")
        uid = user_id.decode() if isinstance(user_id, bytes) else user_id
        if uid != str(except_user) and float(until or 0) >= now:
            names.append(name)
    return sorted(names)
