"""The count beside "Inbox" in the portal's navigation: the conversations that need the agent — not
resolved with unread customer messages among those they may see, or naming them in a note they have
not seen — in one query on every page, so it reads no membership or team rows separately."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from accounts.roles import Perm, role_has_perm
from aerostic.core.dbrouting import replica
from inbox.models import Conversation, Mention, TeamMember
from inbox.selectors import COUNT_CAP


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
