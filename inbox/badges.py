"""The inbox's counts: the unread conversations per view (the list's tabs, the API's `unread/`) and
the count beside "Inbox" in the portal's navigation: the conversations that need the agent — not
resolved with unread customer messages among those they may see, or naming them in a note they have
not seen — in one query on every page, so it reads no membership or team rows separately. Every
count stops at COUNT_CAP (shown as 99+), so its cost does not grow with the backlog."""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, Q, Value

from accounts.roles import Perm, role_has_perm
from aerostic.core.dbrouting import replica
from inbox.models import Conversation, Mention, TeamMember
from inbox.selectors import Agent

COUNT_CAP = 100  # counts stop here (shown as 99+): their cost stays bounded however many there are


def unread_counts(agent: Agent, *, attention: bool = False) -> dict[str, int]:
    """Conversations with unread customer messages, not resolved, per view the agent has, each
    counted up to COUNT_CAP: one statement of bounded reads (a UNION ALL of LIMITed parts).

    With `attention`, the same statement also gives "attention": the navigation badge's count
    (inbox.badges), these unread conversations with those naming the agent in a note they have not
    seen, so an inbox page reads both at once."""
    database = replica()
    unread = (
        Conversation.objects.using(database)
        .filter(agent.visible(), unread_count__gt=0)
        .exclude(status=Conversation.Status.RESOLVED)
    )
    views = {
        "mine": Q(assignee_id=agent.user_id),
        "unassigned": Q(assignee__isnull=True),
        "team": Q(team_id__in=agent.team_ids),
        "all": Q(),
    }
    parts: list[Any] = [
        unread.filter(condition)
        .annotate(view=Value(name, output_field=CharField()))
        .values_list("view", "pk")[:COUNT_CAP]
        for name, condition in views.items()
    ]
    if attention:
        parts.append(
            Mention.objects.using(database)
            .filter(user_id=agent.user_id, seen_at__isnull=True)
            .annotate(view=Value("mention", output_field=CharField()))
            .values_list("view", "conversation_id")[:COUNT_CAP]
        )
    counts = dict.fromkeys(views, 0)
    needing: set[int] = set()
    for name, conversation_id in parts[0].union(*parts[1:], all=True):
        if name in counts:
            counts[name] += 1
        if name in ("all", "mention"):
            needing.add(conversation_id)
    if attention:
        counts["attention"] = len(needing)
    return counts


def attention_count(*, user_id: int, role: str) -> int:
    """Conversations needing this member: unread and visible to them (inbox.selectors.Agent's
    rule, with their teams read in the same statement), or with an unseen mention of them; above
    COUNT_CAP it may stop counting."""
    visible = Q()
    if not role_has_perm(role, Perm.INBOX_VIEW_ALL):
        their_teams = TeamMember.objects.filter(user_id=user_id).values("team_id")
        visible = Q(assignee_id=user_id) | Q(assignee__isnull=True) | Q(team_id__in=their_teams)
    database = replica()
    unread = (
        Conversation.objects.using(database)
        .filter(visible, unread_count__gt=0)
        .exclude(status=Conversation.Status.RESOLVED)
        .values("pk")
    )
    mentioned = Mention.objects.using(database).filter(user_id=user_id, seen_at__isnull=True).values("conversation_id")
    # each part capped (the badge says 99+ above that): the count's cost stays bounded
    return unread[:COUNT_CAP].union(mentioned[:COUNT_CAP]).count()


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
