"""The inbox's workspace settings rows, read and written for the REST API: teams (their members are
agents of the workspace), labels and quick replies. Each change is audited (aerostic.core.audit)
in its transaction; a wrong value is a `SettingInvalid` naming the field, a taken name or shortcut
included, and stores nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from aerostic.core import audit
from aerostic.core.errors import DomainError
from aerostic.core.tenant_context import require_tenant_id
from inbox import changes
from inbox.models import Conversation, ConversationLabel, Label, QuickReply, Team, TeamMember
from inbox.teamwork import agents

TEAM_NAME_MAX = 80
LABEL_NAME_MAX = 50
SHORTCUT_MAX = 40
TITLE_MAX = 80
BODY_MAX = 4096
_SHORTCUT = re.compile(r"^[A-Za-z0-9_-]+$")


class SettingInvalid(DomainError):
    """Bad input for a team, label or quick reply; `problems` maps each field to what is wrong."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {problem}" for field, problem in problems.items()))
        self.problems = problems


def _text(value: Any, *, field: str, limit: int) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise SettingInvalid({field: "This is required."})
    if len(text) > limit:
        raise SettingInvalid({field: f"At most {limit} characters."})
    return text


def _saved(row: Any, *, field: str, taken: str) -> None:
    """Saves the row; the unique constraint on its name answers "taken" (two people saving the same
    name at once included)."""
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise SettingInvalid({field: taken}) from None


# --- teams


def teams_with_members() -> QuerySet[Team]:
    return Team.objects.prefetch_related("memberships").order_by("name")


def team_get(team_id: int) -> Team:
    """Team.DoesNotExist for another workspace's id as for a missing one."""
    return teams_with_members().get(pk=team_id)


def _member_ids(member_ids: Iterable[int]) -> list[int]:
    wanted = sorted(set(member_ids))
    known = {user.pk for user in agents()}
    strangers = [user_id for user_id in wanted if user_id not in known]
    if strangers:
        listed = ", ".join(str(user_id) for user_id in strangers)
        raise SettingInvalid({"members": f"Not agents of this workspace: {listed}."})
    return wanted


def _members_set(team: Team, member_ids: list[int]) -> None:
    TeamMember.objects.filter(team=team).exclude(user_id__in=member_ids).delete()
    TeamMember.objects.bulk_create(
        [TeamMember(tenant_id=team.tenant_id, team=team, user_id=user_id) for user_id in member_ids],
        ignore_conflicts=True,
    )


@transaction.atomic
def team_create(*, name: str, member_ids: Iterable[int] = (), actor: Any, request: Any = None) -> Team:
    team = Team(tenant_id=require_tenant_id(), name=_text(name, field="name", limit=TEAM_NAME_MAX))
    members = _member_ids(member_ids)
    _saved(team, field="name", taken="A team with this name already exists.")
    _members_set(team, members)
    audit.record(
        "inbox.team_create",
        actor=actor,
        tenant=team.tenant_id,
        target=team,
        request=request,
        metadata={"members": members},
    )
    return team_get(team.pk)


@transaction.atomic
def team_update(
    *, team: Team, name: str | None = None, member_ids: Iterable[int] | None = None, actor: Any, request: Any = None
) -> Team:
    """Renames the team and/or replaces its members (None leaves either as it is)."""
    changed: dict[str, Any] = {}
    if name is not None:
        team.name = _text(name, field="name", limit=TEAM_NAME_MAX)
        changed["name"] = team.name
    members = _member_ids(member_ids) if member_ids is not None else None
    if name is not None:
        _saved(team, field="name", taken="A team with this name already exists.")
    if members is not None:
        _members_set(team, members)
        changed["members"] = members
    if changed:
        audit.record(
            "inbox.team_update", actor=actor, tenant=team.tenant_id, target=team, request=request, metadata=changed
        )
    return team_get(team.pk)


@transaction.atomic
def team_delete(*, team: Team, actor: Any, request: Any = None) -> None:
    """Its conversations stay, without a team."""
    moved = list(Conversation.objects.filter(team=team).values_list("pk", flat=True))
    audit.record("inbox.team_delete", actor=actor, tenant=team.tenant_id, target=team, request=request)
    team.delete()
    changes.conversations_changed(require_tenant_id(), moved)


# --- labels


def label_get(label_id: int) -> Label:
    return Label.objects.get(pk=label_id)


def _color(value: Any) -> str:
    if value not in Label.Color.values:
        raise SettingInvalid({"color": f"One of {', '.join(Label.Color.values)}."})
    return str(value)


@transaction.atomic
def label_create(*, name: str, color: str = Label.Color.GREY, actor: Any, request: Any = None) -> Label:
    label = Label(
        tenant_id=require_tenant_id(), name=_text(name, field="name", limit=LABEL_NAME_MAX), color=_color(color)
    )
    _saved(label, field="name", taken="A label with this name already exists.")
    audit.record("inbox.label_create", actor=actor, tenant=label.tenant_id, target=label, request=request)
    return label


@transaction.atomic
def label_update(
    *, label: Label, name: str | None = None, color: str | None = None, actor: Any, request: Any = None
) -> Label:
    changed: dict[str, Any] = {}
    if name is not None:
        label.name = changed["name"] = _text(name, field="name", limit=LABEL_NAME_MAX)
    if color is not None:
        label.color = changed["color"] = _color(color)
    if changed:
        _saved(label, field="name", taken="A label with this name already exists.")
        audit.record(
            "inbox.label_update", actor=actor, tenant=label.tenant_id, target=label, request=request, metadata=changed
        )
        labelled = ConversationLabel.objects.filter(label=label).values_list("conversation_id", flat=True)
        changes.conversations_changed(label.tenant_id, list(labelled))
    return label


@transaction.atomic
def label_delete(*, label: Label, actor: Any, request: Any = None) -> None:
    """Taken off every conversation that had it."""
    labelled = list(ConversationLabel.objects.filter(label=label).values_list("conversation_id", flat=True))
    audit.record("inbox.label_delete", actor=actor, tenant=label.tenant_id, target=label, request=request)
    label.delete()
    changes.conversations_changed(require_tenant_id(), labelled)


# --- quick replies


def quick_replies() -> QuerySet[QuickReply]:
    return QuickReply.objects.order_by("shortcut")


def quick_reply_get(quick_reply_id: int) -> QuickReply:
    return QuickReply.objects.get(pk=quick_reply_id)


def _shortcut(value: Any) -> str:
    shortcut = str(value or "").strip().lstrip("/")
    if not shortcut:
        raise SettingInvalid({"shortcut": "This is required."})
    if len(shortcut) > SHORTCUT_MAX:
        raise SettingInvalid({"shortcut": f"At most {SHORTCUT_MAX} characters."})
    if not _SHORTCUT.match(shortcut):
        raise SettingInvalid({"shortcut": "Letters, digits, - and _ only (typed after a slash: /hours)."})
    return shortcut.lower()


def _body(value: Any) -> str:
    body = str(value or "").strip()
    if not body:
        raise SettingInvalid({"body": "This is required."})
    if len(body) > BODY_MAX:
        raise SettingInvalid({"body": f"At most {BODY_MAX} characters."})
    return body


def _shortcut_taken(shortcut: str) -> str:
    return f"The shortcut /{shortcut} is taken: choose another."


@transaction.atomic
def quick_reply_create(*, shortcut: str, title: str, body: str, actor: Any, request: Any = None) -> QuickReply:
    quick_reply = QuickReply(
        tenant_id=require_tenant_id(),
        shortcut=_shortcut(shortcut),
        title=_text(title, field="title", limit=TITLE_MAX),
        body=_body(body),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    _saved(quick_reply, field="shortcut", taken=_shortcut_taken(quick_reply.shortcut))
    audit.record(
        "inbox.quick_reply_create", actor=actor, tenant=quick_reply.tenant_id, target=quick_reply, request=request
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
    changed: list[str] = []
    if shortcut is not None:
        quick_reply.shortcut = _shortcut(shortcut)
        changed.append("shortcut")
    if title is not None:
        quick_reply.title = _text(title, field="title", limit=TITLE_MAX)
        changed.append("title")
    if body is not None:
        quick_reply.body = _body(body)
        changed.append("body")
    if changed:
        _saved(quick_reply, field="shortcut", taken=_shortcut_taken(quick_reply.shortcut))
        audit.record(
            "inbox.quick_reply_update",
            actor=actor,
            tenant=quick_reply.tenant_id,
            target=quick_reply,
            request=request,
            metadata={"fields": changed},
        )
    return quick_reply


@transaction.atomic
def quick_reply_delete(*, quick_reply: QuickReply, actor: Any, request: Any = None) -> None:
    audit.record(
        "inbox.quick_reply_delete", actor=actor, tenant=quick_reply.tenant_id, target=quick_reply, request=request
    )
    quick_reply.delete()
