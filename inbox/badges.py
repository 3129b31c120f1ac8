"""The inbox's counts: the unread conversations per view (the list's tabs, the API's `unread/`) and
the count beside "Inbox" in the portal's navigation: the conversations that need the agent — not
resolved with unread customer messages among those they may see, or naming them in a note they have
not seen — in one query on every page, so it reads no membership or team rows separately. Every
count stops at COUNT_CAP (shown as 99+), so its cost does not grow with the backlog."""

from __future__ import annotations

from typing import Any

from django.db import connections

from accounts.roles import Perm, role_has_perm
from aerostic.core.dbrouting import replica
from aerostic.core.tenant_context import require_tenant_id
from inbox.selectors import Agent

COUNT_CAP = 100  # counts stop here (shown as 99+): their cost stays bounded however many there are

# Written as SQL, not composed with the ORM: compiling the five querysets of a UNION cost more
# (≈ 3.5 ms) than running the statement, on every inbox page. The visibility rule is
# inbox.selectors.Agent.visible's, with the member's teams read in the same statement.
_NEEDING = "c.tenant_id = %(tenant)s AND c.unread_count > 0 AND c.status <> 'resolved'"
_VISIBLE = (
    " AND (c.assignee_id = %(user)s OR c.assignee_id IS NULL OR c.team_id IN"
    " (SELECT t.team_id FROM inbox_teammember AS t WHERE t.tenant_id = %(tenant)s AND t.user_id = %(user)s))"
)
_VIEWS = {
    "mine": " AND c.assignee_id = %(user)s",
    "unassigned": " AND c.assignee_id IS NULL",
    "team": (
        " AND c.team_id IN (SELECT t.team_id FROM inbox_teammember AS t"
        " WHERE t.tenant_id = %(tenant)s AND t.user_id = %(user)s)"
    ),
    "all": "",
}
_MENTIONED = (
    "(SELECT 'mention', m.conversation_id FROM inbox_mention AS m"
    " WHERE m.tenant_id = %(tenant)s AND m.user_id = %(user)s AND m.seen_at IS NULL LIMIT %(cap)s)"
)


def _counted(*, sees_all: bool, views: tuple[str, ...], mentions: bool) -> str:
    visible = "" if sees_all else _VISIBLE
    parts = [  # our constants only; every value is a parameter
        f"(SELECT '{view}', c.id FROM inbox_conversation AS c WHERE {_NEEDING}{visible}{_VIEWS[view]} LIMIT %(cap)s)"  # noqa: S608
        for view in views
    ]
    if mentions:
        parts.append(_MENTIONED)
    return " UNION ALL ".join(parts)


def _count_rows(*, user_id: int, sees_all: bool, views: tuple[str, ...], mentions: bool) -> list[tuple[str, int]]:
    params = {"tenant": require_tenant_id(), "user": user_id, "cap": COUNT_CAP}
    with connections[replica()].cursor() as cursor:
        cursor.execute(_counted(sees_all=sees_all, views=views, mentions=mentions), params)
        return cursor.fetchall()


def unread_counts(agent: Agent, *, attention: bool = False) -> dict[str, int]:
    """Conversations with unread customer messages, not resolved, per view the agent has, each
    counted up to COUNT_CAP: one statement of bounded reads (a UNION ALL of LIMITed parts).

    With `attention`, the same statement also gives "attention": the navigation badge's count,
    these unread conversations with those naming the agent in a note they have not seen, so an
    inbox page reads both at once."""
    counts = dict.fromkeys(_VIEWS, 0)
    needing: set[int] = set()
    for name, conversation_id in _count_rows(
        user_id=agent.user_id, sees_all=agent.sees_all, views=tuple(_VIEWS), mentions=attention
    ):
        if name in counts:
            counts[name] += 1
        if name in ("all", "mention"):
            needing.add(conversation_id)
    if attention:
        counts["attention"] = len(needing)
    return counts


def attention_count(*, user_id: int, role: str) -> int:
    """Conversations needing this member: unread and visible to them, or with an unseen mention of
    them; above COUNT_CAP it may stop counting. One statement."""
    rows = _count_rows(
        user_id=user_id, sees_all=role_has_perm(role, Perm.INBOX_VIEW_ALL), views=("all",), mentions=True
    )
    return len({conversation_id for _, conversation_id in rows})


def attention_known(request: Any, count: int) -> None:
    """An inbox page read the count with its unread counts (selectors.unread_counts(attention=True)):
    the navigation shows that one instead of asking again."""
    request.inbox_attention = count


def inbox_badge(request: Any) -> int | None:
    """The navigation badge (tenants.context_processors.register_nav_badge)."""
    membership = getattr(request, "membership", None)
    if membership is None or not role_has_perm(membership.role, Perm.INBOX_VIEW):
        return None
    known = getattr(request, "inbox_attention", None)
    if known is not None:
        return known or None
    return attention_count(user_id=membership.user_id, role=membership.role) or None
