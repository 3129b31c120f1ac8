"""Reads of the inbox's settings, for its settings pages and the REST API: teams and their members,
labels in use, quick replies; and what the conversation list's filters offer. Every query goes
through the tenant manager, so another workspace's id is DoesNotExist (a 404)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import CharField, Count, QuerySet, Value

from inbox import teamwork
from inbox.models import ConversationLabel, Label, QuickReply, Team, TeamMember
from whatsapp.models import PhoneNumber


def team_list() -> QuerySet[Team]:
    """The workspace's teams by name, their memberships fetched along."""
    return Team.objects.prefetch_related("memberships").order_by("name")


def team_get(team_id: int) -> Team:
    return Team.objects.get(pk=team_id)


def team_members(team: Team) -> list[Any]:
    """The team's members (users), by name."""
    members = TeamMember.objects.filter(team=team).select_related("user")
    return sorted((member.user for member in members), key=lambda user: (user.get_full_name() or user.email).lower())


def team_candidates(team: Team) -> list[Any]:
    """The workspace's agents not in the team yet."""
    in_team = set(TeamMember.objects.filter(team=team).values_list("user_id", flat=True))
    return [user for user in teamwork.agents() if user.pk not in in_team]


def label_get(label_id: int) -> Label:
    return Label.objects.get(pk=label_id)


def labels_in_use() -> dict[int, int]:
    """Label id → how many conversations carry it."""
    return dict(
        ConversationLabel.objects.values("label_id").annotate(count=Count("pk")).values_list("label_id", "count")
    )


def quick_reply_list() -> QuerySet[QuickReply]:
    return QuickReply.objects.select_related("created_by").order_by("shortcut")


def quick_reply_get(quick_reply_id: int) -> QuickReply:
    return QuickReply.objects.select_related("created_by").get(pk=quick_reply_id)


@dataclass(frozen=True)
class Choice:
    pk: int
    name: str
    detail: str = ""


@dataclass(frozen=True)
class FilterChoices:
    phones: list[Choice]  # the active business numbers (detail: the verified name)
    labels: list[Choice]
    teams: list[Choice]


def filter_choices() -> FilterChoices:
    """What the list's filters offer, in one statement (a UNION ALL of the three small tables)."""
    blank = Value("", output_field=CharField())
    parts = [
        Label.objects.annotate(kind=Value("label", output_field=CharField()), detail=blank).values_list(
            "kind", "pk", "name", "detail"
        ),
        Team.objects.annotate(kind=Value("team", output_field=CharField()), detail=blank).values_list(
            "kind", "pk", "name", "detail"
        ),
        PhoneNumber.objects.filter(is_active=True)
        .annotate(kind=Value("phone", output_field=CharField()))
        .values_list("kind", "pk", "display_phone_number", "verified_name"),
    ]
    found: dict[str, list[Choice]] = {"phone": [], "label": [], "team": []}
    for kind, pk, name, detail in parts[0].union(*parts[1:], all=True):
        found[kind].append(Choice(pk=pk, name=name, detail=detail))
    return FilterChoices(
        **{
            f"{kind}s": sorted(choices, key=lambda choice: (choice.name.lower(), choice.pk))
            for kind, choices in found.items()
        }
    )
