"""A workspace's inbox setup, written from its settings pages, the REST API and the platform
console: read receipts, teams and their members, labels, quick replies, and an agent's availability.

Each change is audited (aerostic.core.audit, in the same transaction; a quick reply's text is
never put in the audit). Team and label names and quick-reply shortcuts are unique in a workspace.
Wrong input is a `SettingInvalid` naming the field (a form shows it beside the field, the API
answers it as `problems`) and stores nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction

from accounts.roles import Perm, role_has_perm
from aerostic.core import audit
from aerostic.core.errors import DomainError
from inbox import changes, teamwork
from inbox.models import (
    AgentStatus,
    Conversation,
    ConversationLabel,
    InboxSettings,
    Label,
    QuickReply,
    Team,
    TeamMember,
)
from tenants.models import Membership


class SettingInvalid(DomainError):
    """Bad input for one field; `problems` maps the field to what is wrong with it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.problems = {field: message}


def _text(value: Any, *, field: str, label: str, max_length: int) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise SettingInvalid(field, f"Give the {label}.")
    if len(text) > max_length:
        raise SettingInvalid(field, f"The {label} has at most {max_length} characters.")
    return text


def setting_audit(action: str, *, actor: Any, target: Any, request: Any, **metadata: Any) -> None:
    audit.record(action, actor=actor, tenant=target.tenant_id, target=target, request=request, metadata=metadata)


def _saved(row: Any, field: str, message: str, **save: Any) -> None:
    """Saves in a savepoint: a clash with a unique constraint that slipped past the check (two
    people at the same moment) becomes the same clear error."""
    try:
        with transaction.atomic():
            row.save(**save)
    except IntegrityError:
        raise SettingInvalid(field, message) from None


# --- inbox settings


@transaction.atomic
def inbox_settings_update(*, send_read_receipts: bool, actor: Any, request: Any = None) -> InboxSettings:
    row, _ = InboxSettings.objects.select_for_update().get_or_create()
    if row.send_read_receipts != send_read_receipts:
        before = row.send_read_receipts
        row.send_read_receipts = send_read_receipts
        row.save(update_fields=["send_read_receipts", "updated_at"])
        setting_audit(
            "inbox.settings.update",
            actor=actor,
            target=row,
            request=request,
            changes={"send_read_receipts": [before, send_read_receipts]},
        )
    return row


# --- teams


def _team_name(name: Any, *, team: Team | None = None) -> str:
    name = _text(name, field="name", label="team's name", max_length=Team._meta.get_field("name").max_length or 80)
    clash = Team.objects.filter(name__iexact=name)
    if team is not None:
        clash = clash.exclude(pk=team.pk)
    if clash.exists():
        raise SettingInvalid("name", f"There is already a team called {name!r}.")
    return name


def _agents(user_ids: Iterable[int]) -> dict[int, Any]:
    """The workspace's agents (active members whose role reads the inbox) among these user ids."""
    memberships = Membership.objects.select_related("user").filter(user_id__in=set(user_ids), user__is_active=True)
    return {m.user_id: m.user for m in memberships if role_has_perm(m.role, Perm.INBOX_VIEW)}


def _team_members(member_ids: Iterable[int]) -> dict[int, Any]:
    wanted = sorted(set(member_ids))
    agents = _agents(wanted)
    strangers = [user_id for user_id in wanted if user_id not in agents]
    if strangers:
        listed = ", ".join(str(user_id) for user_id in strangers)
        raise SettingInvalid("members", f"Not agents of this workspace: {listed}.")
    return {user_id: agents[user_id] for user_id in wanted}


def _member_add(team: Team, user: Any, *, actor: Any, request: Any) -> TeamMember:
    member, created = TeamMember.objects.get_or_create(team=team, user=user)
    if created:
        setting_audit("inbox.team.member_add", actor=actor, target=team, request=request, user_id=user.pk)
    return member


@transaction.atomic
def team_create(*, name: str, member_ids: Iterable[int] = (), actor: Any, request: Any = None) -> Team:
    """A team, with its first members (user ids of the workspace's agents) if given."""
    team = Team(name=_team_name(name))
    members = _team_members(member_ids)
    _saved(team, "name", f"There is already a team called {team.name!r}.")
    setting_audit("inbox.team.create", actor=actor, target=team, request=request, name=team.name)
    for user in members.values():
        _member_add(team, user, actor=actor, request=request)
    return team


@transaction.atomic
def team_rename(*, team: Team, name: str, actor: Any, request: Any = None) -> Team:
    name = _team_name(name, team=team)
    if name != team.name:
        before, team.name = team.name, name
        _saved(team, "name", f"There is already a team called {name!r}.", update_fields=["name"])
        setting_audit("inbox.team.rename", actor=actor, target=team, request=request, changes={"name": [before, name]})
    return team


@transaction.atomic
def team_update(
    *, team: Team, name: str | None = None, member_ids: Iterable[int] | None = None, actor: Any, request: Any = None
) -> Team:
    """Renames the team and/or makes `member_ids` its members (None leaves either as it is); each
    member added or removed is audited as by team_member_add / team_member_remove."""
    members = _team_members(member_ids) if member_ids is not None else None
    if name is not None:
        team_rename(team=team, name=name, actor=actor, request=request)
    if members is not None:
        current = set(TeamMember.objects.filter(team=team).values_list("user_id", flat=True))
        for user_id in sorted(current - members.keys()):
            team_member_remove(team=team, user_id=user_id, actor=actor, request=request)
        for user_id, user in members.items():
            if user_id not in current:
                _member_add(team, user, actor=actor, request=request)
    return team


@transaction.atomic
def team_delete(*, team: Team, actor: Any, request: Any = None) -> None:
    """The team's conversations stay where they are, with no team."""
    moved = list(Conversation.objects.filter(team=team).values_list("pk", flat=True))
    setting_audit(
        "inbox.team.delete", actor=actor, target=team, request=request, name=team.name, conversations=len(moved)
    )
    team.delete()
    changes.conversations_changed(team.tenant_id, moved)


@transaction.atomic
def team_member_add(*, team: Team, user_id: int, actor: Any, request: Any = None) -> TeamMember:
    user = _agents([user_id]).get(user_id)
    if user is None:
        raise SettingInvalid("user", "That person is not an agent of this workspace.")
    return _member_add(team, user, actor=actor, request=request)


@transaction.atomic
def team_member_remove(*, team: Team, user_id: int, actor: Any, request: Any = None) -> None:
    if not TeamMember.objects.filter(team=team, user_id=user_id).delete()[0]:
        raise SettingInvalid("user", "That person is not in this team.")
    if team.last_assigned_id == user_id:
        Team.objects.filter(pk=team.pk).update(last_assigned=None)
    setting_audit("inbox.team.member_remove", actor=actor, target=team, request=request, user_id=user_id)


# --- labels


def _label_values(name: Any, color: Any, *, label: Label | None = None) -> tuple[str, str]:
    name = _text(name, field="name", label="label's name", max_length=Label._meta.get_field("name").max_length or 50)
    clash = Label.objects.filter(name__iexact=name)
    if label is not None:
        clash = clash.exclude(pk=label.pk)
    if clash.exists():
        raise SettingInvalid("name", f"There is already a label called {name!r}.")
    if color not in Label.Color.values:
        raise SettingInvalid("color", f"Pick one of the colours: {', '.join(Label.Color.values)}.")
    return name, str(color)


def _labelled(label: Label) -> list[int]:
    return list(ConversationLabel.objects.filter(label=label).values_list("conversation_id", flat=True))


@transaction.atomic
def label_create(*, name: str, color: str = Label.Color.GREY, actor: Any, request: Any = None) -> Label:
    name, color = _label_values(name, color)
    label = Label(name=name, color=color)
    _saved(label, "name", f"There is already a label called {name!r}.")
    setting_audit("inbox.label.create", actor=actor, target=label, request=request, name=name, color=color)
    return label


@transaction.atomic
def label_update(
    *, label: Label, name: str | None = None, color: str | None = None, actor: Any, request: Any = None
) -> Label:
    """Renames and/or recolours the label (None leaves either as it is)."""
    name, color = _label_values(
        label.name if name is None else name, label.color if color is None else color, label=label
    )
    changed = {
        field: [getattr(label, field), value]
        for field, value in (("name", name), ("color", color))
        if getattr(label, field) != value
    }
    if changed:
        label.name, label.color = name, color
        _saved(label, "name", f"There is already a label called {name!r}.", update_fields=list(changed))
        setting_audit("inbox.label.update", actor=actor, target=label, request=request, changes=changed)
        changes.conversations_changed(label.tenant_id, _labelled(label))
    return label


@transaction.atomic
def label_delete(*, label: Label, actor: Any, request: Any = None) -> None:
    """The label comes off every conversation that had it."""
    labelled = _labelled(label)
    setting_audit("inbox.label.delete", actor=actor, target=label, request=request, name=label.name)
    label.delete()
    changes.conversations_changed(label.tenant_id, labelled)


# --- quick replies

_SHORTCUT = re.compile(r"^[a-z0-9_-]+$")


def quick_reply_may_change(quick_reply: QuickReply, *, user_id: int, role: str) -> bool:
    """Whoever may reply adds quick replies and changes their own; those who manage the
    workspace's settings change anyone's."""
    if role_has_perm(role, Perm.SETTINGS_MANAGE):
        return True
    return role_has_perm(role, Perm.INBOX_REPLY) and quick_reply.created_by_id == user_id


def _shortcut_taken(shortcut: str) -> str:
    return f"/{shortcut} is already the shortcut of another quick reply."


def _quick_reply_values(
    shortcut: Any, title: Any, body: Any, *, quick_reply: QuickReply | None = None
) -> tuple[str, str, str]:
    max_shortcut = QuickReply._meta.get_field("shortcut").max_length or 40
    shortcut = str(shortcut or "").strip().lstrip("/").lower()
    if not shortcut:
        raise SettingInvalid("shortcut", "Give the shortcut typed after the slash, e.g. hours.")
    if len(shortcut) > max_shortcut or not _SHORTCUT.match(shortcut):
        raise SettingInvalid(
            "shortcut", f"A shortcut is one word of letters, digits, - or _ (at most {max_shortcut} characters)."
        )
    clash = QuickReply.objects.filter(shortcut=shortcut)
    if quick_reply is not None:
        clash = clash.exclude(pk=quick_reply.pk)
    if clash.exists():
        raise SettingInvalid("shortcut", _shortcut_taken(shortcut))
    title = _text(title, field="title", label="title", max_length=QuickReply._meta.get_field("title").max_length or 80)
    body = str(body or "").strip()
    max_body = QuickReply._meta.get_field("body").max_length or 4096
    if not body:
        raise SettingInvalid("body", "Write the reply's text.")
    if len(body) > max_body:
        raise SettingInvalid("body", f"A quick reply holds at most {max_body} characters.")
    return shortcut, title, body


@transaction.atomic
def quick_reply_create(*, shortcut: str, title: str, body: str, actor: Any, request: Any = None) -> QuickReply:
    shortcut, title, body = _quick_reply_values(shortcut, title, body)
    quick_reply = QuickReply(
        shortcut=shortcut,
        title=title,
        body=body,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    _saved(quick_reply, "shortcut", _shortcut_taken(shortcut))
    setting_audit(
        "inbox.quick_reply.create", actor=actor, target=quick_reply, request=request, shortcut=shortcut, title=title
    )
    return quick_reply


@transaction.atomic
def quick_reply_update(
    *,
    quick_reply: QuickReply,
    shortcut: str | None = None,
    title: str | None = None,
    body: str | None = None,
    actor: Any,
    request: Any = None,
) -> QuickReply:
    """Changes the fields given (None leaves one as it is)."""
    shortcut, title, body = _quick_reply_values(
        quick_reply.shortcut if shortcut is None else shortcut,
        quick_reply.title if title is None else title,
        quick_reply.body if body is None else body,
        quick_reply=quick_reply,
    )
    changed = [
        field
        for field, value in (("shortcut", shortcut), ("title", title), ("body", body))
        if getattr(quick_reply, field) != value
    ]
    if changed:
        before = {"shortcut": quick_reply.shortcut, "title": quick_reply.title}
        quick_reply.shortcut, quick_reply.title, quick_reply.body = shortcut, title, body
        _saved(quick_reply, "shortcut", _shortcut_taken(shortcut), update_fields=[*changed, "updated_at"])
        setting_audit(
            "inbox.quick_reply.update",
            actor=actor,
            target=quick_reply,
            request=request,
            changed=changed,  # names only: the reply's text stays out of the audit
            changes={field: [before[field], getattr(quick_reply, field)] for field in changed if field in before},
        )
    return quick_reply


@transaction.atomic
def quick_reply_delete(*, quick_reply: QuickReply, actor: Any, request: Any = None) -> None:
    setting_audit(
        "inbox.quick_reply.delete", actor=actor, target=quick_reply, request=request, shortcut=quick_reply.shortcut
    )
    quick_reply.delete()


# --- availability


@transaction.atomic
def availability_change(*, user: Any, available: bool, actor: Any, request: Any = None) -> AgentStatus:
    """An agent's Available / Away (round-robin skips away agents), set by themselves or by staff."""
    was_available = teamwork.is_available(user)
    status = teamwork.availability_set(user, available=available)
    if was_available != available:
        setting_audit(
            "inbox.availability.set", actor=actor, target=status, request=request, user_id=user.pk, available=available
        )
    return status
