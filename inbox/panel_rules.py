"""What the conversation side panel checks before it calls inbox.teamwork: who may assign whom,
and the snooze times it offers (in the workspace's time zone)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from accounts.roles import Perm, role_has_perm
from aerostic.core.errors import DomainError, Forbidden
from inbox import teamwork
from inbox.models import Conversation
from tenants.models import Membership

SNOOZE_CHOICES = {
    "1h": "For 1 hour",
    "tomorrow": "Until tomorrow 09:00",
    "monday": "Until next Monday 09:00",
    "custom": "Until…",
}
MORNING = time(9, 0)


def assign_check(conversation: Conversation, *, role: str, user_id: int, assignee_id: int | None) -> None:
    """Anyone who may reply takes an unassigned conversation ("Assign to me") or gives back their
    own; assigning anyone else, taking a teammate's or unassigning it needs INBOX_ASSIGN."""
    if role_has_perm(role, Perm.INBOX_ASSIGN):
        return
    if not role_has_perm(role, Perm.INBOX_REPLY):
        raise Forbidden("Your role does not allow taking conversations.")
    takes_unassigned = assignee_id == user_id and conversation.assignee_id is None
    gives_back_own = assignee_id is None and conversation.assignee_id == user_id
    if not (takes_unassigned or gives_back_own):
        raise Forbidden("Your role does not allow assigning conversations to others.")


def assignable_agents() -> list[Any]:
    """The agents a conversation may be assigned to (those who may reply), by name."""
    roles = dict(Membership.objects.values_list("user_id", "role"))
    return [user for user in teamwork.agents() if role_has_perm(roles.get(user.pk, ""), Perm.INBOX_REPLY)]


def workspace_zone(name: str) -> ZoneInfo:
    """The workspace's time zone (UTC when the stored name is unknown to this system)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def snooze_until(choice: str, *, zone: ZoneInfo, custom: str = "", now: datetime | None = None) -> datetime:
    """The moment a snooze choice means: an hour from now, tomorrow 09:00 or the coming Monday 09:00
    in the workspace's zone, or a custom local date and time ("2025-05-12T14:30") in that zone.
    Whether it is in the future is conversation_status's rule."""
    now = now or timezone.now()
    local_now = now.astimezone(zone)
    if choice == "1h":
        return now + timedelta(hours=1)
    if choice == "tomorrow":
        return datetime.combine(local_now.date() + timedelta(days=1), MORNING, tzinfo=zone)
    if choice == "monday":
        days = (7 - local_now.weekday()) % 7 or 7  # Monday is 0; on a Monday, the one after
        return datetime.combine(local_now.date() + timedelta(days=days), MORNING, tzinfo=zone)
    if choice == "custom":
        try:
            local = datetime.fromisoformat(custom.strip())
        except ValueError:
            raise DomainError("Pick the date and time to snooze until.") from None
        if local.tzinfo is None:
            local = local.replace(tzinfo=zone)
        return local
    raise DomainError(f"Unknown snooze choice {choice!r}: one of {', '.join(SNOOZE_CHOICES)}.")
