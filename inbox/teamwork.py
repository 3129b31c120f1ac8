"""What agents do to a conversation: assign (by hand or round-robin in a team), resolve, reopen,
mark pending, snooze, label, write private notes that mention teammates, and open it (unread back
to zero, the customer's messages marked read at Meta when the workspace wants blue ticks).

Every change by a person is one `ConversationEvent` with its actor (the conversation's audit
trail, shown in its timeline) and a change notice for open pages (inbox.changes).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accounts.roles import Perm, role_has_perm
from aerostic.core.errors import DomainError
from aerostic.core.jobs import enqueue_on_commit
from inbox import changes
from inbox.ai.takeover import conversation_release
from inbox.events import event_add
from inbox.models import (
    AgentStatus,
    Conversation,
    ConversationEvent,
    ConversationLabel,
    InboxSettings,
    Label,
    Mention,
    Message,
    Team,
    TeamMember,
)
from tenants.models import Membership

Kind = ConversationEvent.Kind
Status = Conversation.Status

NOTE_MAX = 4000


def _name(user: Any) -> str:
    return (user.get_full_name() or user.email) if user is not None else ""


def agents() -> list[Any]:
    """The workspace's members who may work in the inbox (read conversations), by name."""
    memberships = Membership.objects.select_related("user").filter(user__is_active=True)
    users = [m.user for m in memberships if role_has_perm(m.role, Perm.INBOX_VIEW)]
    return sorted(users, key=lambda user: _name(user).lower())


def _agent(user_id: int, *, perm: str = Perm.INBOX_VIEW) -> Any:
    membership = Membership.objects.select_related("user").filter(user_id=user_id, user__is_active=True).first()
    if membership is None or not role_has_perm(membership.role, perm):
        raise DomainError("That person is not an agent of this workspace.")
    return membership.user


# --- assignment


def conversation_assign(conversation: Conversation, *, assignee_id: int | None, actor: Any) -> Conversation:
    """Assigns the conversation to a member who may reply (None unassigns)."""
    assignee = _agent(assignee_id, perm=Perm.INBOX_REPLY) if assignee_id is not None else None
    if (assignee.pk if assignee else None) == conversation.assignee_id:
        return conversation
    conversation.assignee = assignee
    conversation.save(update_fields=["assignee"])
    if assignee is None:
        event_add(conversation, Kind.UNASSIGNED, actor)
    else:
        event_add(conversation, Kind.ASSIGNED, actor, assignee=_name(assignee), assignee_id=assignee.pk)
    return conversation


def conversation_team(
    conversation: Conversation, *, team_id: int | None, actor: Any, round_robin: bool = False
) -> Conversation:
    """Moves the conversation to a team (None: no team); with `round_robin`, also assigns it to
    the team's next available agent (left unassigned when none is available)."""
    team = Team.objects.filter(pk=team_id).first() if team_id is not None else None
    if team_id is not None and team is None:
        raise DomainError("There is no such team.")
    if conversation.team_id != (team.pk if team else None):
        conversation.team = team
        conversation.save(update_fields=["team"])
        event_add(conversation, Kind.TEAM, actor, team=team.name if team else "", team_id=team.pk if team else None)
    if round_robin and team is not None:
        agent = round_robin_next(team)
        if agent is not None:
            conversation_assign(conversation, assignee_id=agent.pk, actor=actor)
    return conversation


def round_robin_next(team: Team) -> Any:
    """The team's next available member who may reply, after the one who got the last conversation
    (by user id, wrapping around). The team row is locked, so two assignments at the same moment
    go to two agents."""
    with transaction.atomic():
        locked = Team.objects.select_for_update().get(pk=team.pk)
        member_ids = list(TeamMember.objects.filter(team=locked).order_by("user_id").values_list("user_id", flat=True))
        away = set(
            AgentStatus.objects.filter(user_id__in=member_ids, available=False).values_list("user_id", flat=True)
        )
        roles = dict(
            Membership.objects.filter(user_id__in=member_ids, user__is_active=True).values_list("user_id", "role")
        )
        eligible = [
            uid
            for uid in member_ids
            if uid not in away and uid in roles and role_has_perm(roles[uid], Perm.INBOX_REPLY)
        ]
        if not eligible:
            return None
        after = [uid for uid in eligible if locked.last_assigned_id is not None and uid > locked.last_assigned_id]
        chosen = (after or eligible)[0]
        Team.objects.filter(pk=locked.pk).update(last_assigned_id=chosen)
    return get_user_model().objects.get(pk=chosen)


def availability_set(user: Any, *, available: bool) -> AgentStatus:
    status, _ = AgentStatus.objects.update_or_create(user=user, defaults={"available": available})
    return status


def is_available(user: Any) -> bool:
    return not AgentStatus.objects.filter(user=user, available=False).exists()


# --- states


def conversation_status(
    conversation: Conversation, *, status: str, actor: Any, snoozed_until: datetime | None = None
) -> Conversation:
    """resolve / reopen / pending / snooze (until a time in the future)."""
    if status not in Status.values:
        raise DomainError(f"Unknown conversation state {status!r}.")
    if status == Status.SNOOZED:
        if snoozed_until is None or snoozed_until <= timezone.now():
            raise DomainError("Snooze until a time in the future.")
    else:
        snoozed_until = None
    if status == conversation.status and snoozed_until == conversation.snoozed_until:
        return conversation
    conversation.status = status
    conversation.snoozed_until = snoozed_until
    conversation.save(update_fields=["status", "snoozed_until"])
    if status == Status.RESOLVED and conversation.ai_paused_at is not None:
        conversation_release(conversation, actor=actor, reason="resolved")
    kind = {
        Status.OPEN: Kind.REOPENED,
        Status.PENDING: Kind.PENDING,
        Status.SNOOZED: Kind.SNOOZED,
        Status.RESOLVED: Kind.RESOLVED,
    }[Status(status)]
    event_add(conversation, kind, actor, **({"until": snoozed_until.isoformat()} if snoozed_until else {}))
    return conversation


def snoozed_wake(*, now: datetime | None = None) -> int:
    """Snoozed conversations whose time has come are open again, in every workspace (the periodic
    job, in a platform context; a customer's message wakes one earlier: inbox.inbound)."""
    now = now or timezone.now()
    woken = list(
        Conversation.all_tenants.filter(status=Status.SNOOZED, snoozed_until__lte=now).values_list("pk", "tenant_id")
    )
    if not woken:
        return 0
    Conversation.all_tenants.filter(pk__in=[pk for pk, _ in woken], status=Status.SNOOZED).update(
        status=Status.OPEN, snoozed_until=None
    )
    ConversationEvent.all_tenants.bulk_create(
        ConversationEvent(tenant_id=tenant_id, conversation_id=pk, kind=Kind.REOPENED, data={"reason": "snooze_ended"})
        for pk, tenant_id in woken
    )
    by_tenant: dict[int, list[int]] = {}
    for pk, tenant_id in woken:
        by_tenant.setdefault(tenant_id, []).append(pk)
    for tenant_id, ids in by_tenant.items():
        changes.conversations_changed(tenant_id, ids)
    return len(woken)


# --- labels


def conversation_label(conversation: Conversation, *, label_id: int, actor: Any, add: bool = True) -> None:
    label = Label.objects.filter(pk=label_id).first()
    if label is None:
        raise DomainError("There is no such label.")
    if add:
        _, created = ConversationLabel.objects.get_or_create(conversation=conversation, label=label)
        if created:
            event_add(conversation, Kind.LABELLED, actor, label=label.name, label_id=label.pk)
    elif ConversationLabel.objects.filter(conversation=conversation, label=label).delete()[0]:
        event_add(conversation, Kind.UNLABELLED, actor, label=label.name, label_id=label.pk)


# --- notes


_MENTION = re.compile(r"@([\w.+-]+)")


def mentioned_users(text: str) -> list[Any]:
    """Teammates named in a note as @firstname, @first.last (their full name, dotted) or @ the part
    of their e-mail before the @ (case-insensitive), each once."""
    handles = {handle.lower().rstrip(".") for handle in _MENTION.findall(text)}
    if not handles:
        return []
    found = []
    for user in agents():
        words = (user.full_name or "").lower().split()
        names = {user.email.split("@")[0].lower(), *words[:1], ".".join(words)} - {""}
        if names & handles:
            found.append(user)
    return found


def note_add(conversation: Conversation, *, body: str, actor: Any) -> ConversationEvent:
    """A private note (never sent to the customer); teammates it mentions are notified."""
    body = body.strip()
    if not body:
        raise DomainError("Write the note first.")
    if len(body) > NOTE_MAX:
        raise DomainError(f"A note holds at most {NOTE_MAX} characters.")
    mentioned = [user for user in mentioned_users(body) if user.pk != getattr(actor, "pk", None)]
    event = event_add(
        conversation, Kind.NOTE, actor, body=body, mentions=[{"id": u.pk, "name": _name(u)} for u in mentioned]
    )
    Mention.objects.bulk_create(
        Mention(tenant_id=conversation.tenant_id, event=event, conversation=conversation, user=user)
        for user in mentioned
    )
    return event


def unseen_mentions(user: Any) -> int:
    return Mention.objects.filter(user=user, seen_at__isnull=True).count()


# --- opening a conversation


def conversation_opened(conversation: Conversation, *, user: Any) -> None:
    """An agent opened the conversation: its unread count goes back to zero, their mentions in it
    are seen, and the customer's last message is marked read at Meta (blue ticks) when the
    workspace sends read receipts (a job: the page does not wait for Meta)."""
    unread = conversation.unread_count
    if unread:
        Conversation.objects.filter(pk=conversation.pk).update(unread_count=0)
        conversation.unread_count = 0
        changes.conversations_changed(conversation.tenant_id, [conversation.pk])
    Mention.objects.filter(user=user, conversation=conversation, seen_at__isnull=True).update(seen_at=timezone.now())
    if unread and inbox_settings().send_read_receipts:
        last_inbound = (
            Message.objects.filter(conversation=conversation, direction=Message.Direction.INBOUND)
            .exclude(wamid="")
            .order_by("-created_at", "-id")
            .values_list("wamid", flat=True)
            .first()
        )
        if last_inbound:
            from inbox.jobs import mark_read_at_meta

            enqueue_on_commit(
                mark_read_at_meta,
                tenant_id=conversation.tenant_id,
                phone_id=conversation.phone_number_id,
                wamid=last_inbound,
            )


def inbox_settings() -> InboxSettings:
    """The workspace's settings (the defaults until someone saves them)."""
    return InboxSettings.objects.first() or InboxSettings()
