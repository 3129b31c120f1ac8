"""The inbox's settings API: teams (members are the workspace's agents), labels and quick replies
created, changed and deleted by those who manage the workspace (audited), wrong input refused with
a message and nothing stored, read by every inbox member; the caller's availability and the agents."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import tenant_context
from inbox.models import AgentStatus, Conversation, ConversationLabel, Label, QuickReply, Team, TeamMember
from inbox.tests.api_support import number_of, quiet_conversation

pytestmark = pytest.mark.django_db

TEAMS, LABELS, QUICK = "/api/v1/inbox/teams/", "/api/v1/inbox/labels/", "/api/v1/inbox/quick-replies/"


@pytest.fixture
def admin(alpha, api_client_for):
    return api_client_for(alpha.admin)


@pytest.fixture
def agent(alpha, api_client_for):
    return api_client_for(alpha.agent)


def _audited(workspace, action: str) -> int:
    with tenant_context(workspace.tenant):
        return AuditEvent.objects.filter(action=action, actor=workspace.admin.user).count()


def _count(workspace, model) -> int:
    with tenant_context(workspace.tenant):
        return model.objects.count()


# --- teams


def test_a_team_is_created_renamed_given_members_and_deleted(alpha, bravo, admin):
    created = admin.post(TEAMS, {"name": "  Support  ", "members": [alpha.agent.user.pk]}, format="json")
    assert created.status_code == 201, created.content
    team = created.json()
    assert team["name"] == "Support" and team["members"] == [alpha.agent.user.pk]

    renamed = admin.patch(f"{TEAMS}{team['id']}/", {"name": "Care"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Care"
    assert renamed.json()["members"] == [alpha.agent.user.pk]  # untouched when not given
    members = [alpha.admin.user.pk, alpha.agent.user.pk]
    assert admin.patch(f"{TEAMS}{team['id']}/", {"members": members}, format="json").json()["members"] == members
    assert admin.get(TEAMS).json() == [admin.get(f"{TEAMS}{team['id']}/").json()]

    assert admin.delete(f"{TEAMS}{team['id']}/").status_code == 204
    assert _count(alpha, Team) == 0 and _count(alpha, TeamMember) == 0
    audited = ("create", "rename", "member_add", "member_remove", "delete")
    assert [_audited(alpha, f"inbox.team.{what}") for what in audited] == [1, 1, 2, 0, 1]


def test_deleting_a_team_keeps_its_conversations(alpha, admin):
    team_id = admin.post(TEAMS, {"name": "Support"}, format="json").json()["id"]
    with tenant_context(alpha.tenant):
        team = Team.objects.get(pk=team_id)
    conversation = quiet_conversation(number_of(alpha), at=timezone.now(), team=team)

    assert admin.delete(f"{TEAMS}{team_id}/").status_code == 204

    with tenant_context(alpha.tenant):
        assert Conversation.objects.get(pk=conversation.pk).team_id is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"name": "Support", "members": [999_999]}, "members"),
        ({"name": "Support", "members": "everyone"}, "members"),
        ({}, "name"),
    ],
    ids=["blank-name", "long-name", "unknown-member", "members-not-a-list", "nothing"],
)
def test_a_wrong_team_is_a_400_naming_the_field_and_stores_nothing(alpha, admin, body, field):
    response = admin.post(TEAMS, body, format="json")

    assert response.status_code == 400
    answer = response.json()
    assert field in answer or field in [problem["where"] for problem in answer.get("problems", [])]
    assert _count(alpha, Team) == 0 and _audited(alpha, "inbox.team.create") == 0


def test_team_members_are_agents_of_this_workspace_only(alpha, bravo, admin):
    response = admin.post(TEAMS, {"name": "Support", "members": [bravo.agent.user.pk]}, format="json")
    assert response.status_code == 400
    assert response.json()["problems"] == [
        {"where": "members", "message": f"Not agents of this workspace: {bravo.agent.user.pk}."}
    ]
    outsider = UserFactory()
    assert admin.post(TEAMS, {"name": "Support", "members": [outsider.pk]}, format="json").status_code == 400
    assert _count(alpha, Team) == 0


def test_a_team_name_is_unique_in_the_workspace(alpha, bravo, admin, api_client_for):
    assert admin.post(TEAMS, {"name": "Support"}, format="json").status_code == 201
    taken = admin.post(TEAMS, {"name": "Support"}, format="json")
    assert taken.status_code == 400 and "There is already a team called" in taken.json()["detail"]
    assert api_client_for(bravo.admin).post(TEAMS, {"name": "Support"}, format="json").status_code == 201
    other = admin.post(TEAMS, {"name": "Billing"}, format="json").json()
    assert admin.patch(f"{TEAMS}{other['id']}/", {"name": "Support"}, format="json").status_code == 400
    assert _count(alpha, Team) == 2


# --- labels


def test_a_label_is_created_changed_and_deleted_from_its_conversations(alpha, admin):
    created = admin.post(LABELS, {"name": "VIP", "color": "purple"}, format="json")
    assert created.status_code == 201, created.content
    label = created.json()
    assert (label["name"], label["color"]) == ("VIP", "purple")
    assert admin.post(LABELS, {"name": "Late"}, format="json").json()["color"] == "grey"
    changed = admin.patch(f"{LABELS}{label['id']}/", {"color": "red"}, format="json").json()
    assert (changed["name"], changed["color"]) == ("VIP", "red")
    assert [row["name"] for row in admin.get(LABELS).json()] == ["Late", "VIP"]
    conversation = quiet_conversation(number_of(alpha), at=timezone.now())
    with tenant_context(alpha.tenant):
        ConversationLabel.objects.create(tenant=alpha.tenant, conversation=conversation, label_id=label["id"])

    assert admin.delete(f"{LABELS}{label['id']}/").status_code == 204

    assert _count(alpha, Label) == 1 and _count(alpha, ConversationLabel) == 0
    assert [_audited(alpha, f"inbox.label.{what}") for what in ("create", "update", "delete")] == [2, 1, 1]


@pytest.mark.parametrize(
    "body",
    [{"name": ""}, {"name": "x" * 51}, {"name": "VIP", "color": "pink"}, {"name": "Taken"}],
    ids=["blank", "too-long", "unknown-colour", "taken"],
)
def test_a_wrong_label_is_a_400_with_a_message(alpha, admin, body):
    assert admin.post(LABELS, {"name": "Taken"}, format="json").status_code == 201

    response = admin.post(LABELS, body, format="json")

    assert response.status_code == 400 and response.json()["detail"]
    assert _count(alpha, Label) == 1


# --- quick replies


def test_a_quick_reply_is_created_changed_and_deleted(alpha, admin, agent):
    created = admin.post(QUICK, {"shortcut": "/Hours", "title": "Opening hours", "body": "9 to 5."}, format="json")
    assert created.status_code == 201, created.content
    quick = created.json()
    assert (quick["shortcut"], quick["title"], quick["body"]) == ("hours", "Opening hours", "9 to 5.")
    changed = admin.patch(f"{QUICK}{quick['id']}/", {"body": "9 to 6, Mon-Sat."}, format="json")
    assert changed.status_code == 200 and changed.json()["body"] == "9 to 6, Mon-Sat."
    assert changed.json()["shortcut"] == "hours"
    assert agent.get(QUICK).json() == [changed.json()]  # agents read them for the composer

    assert admin.delete(f"{QUICK}{quick['id']}/").status_code == 204
    assert _count(alpha, QuickReply) == 0
    assert [_audited(alpha, f"inbox.quick_reply.{what}") for what in ("create", "update", "delete")] == [1, 1, 1]


def test_a_taken_shortcut_is_a_400_with_a_message(alpha, admin):
    first = admin.post(QUICK, {"shortcut": "hours", "title": "Hours", "body": "9 to 5."}, format="json").json()
    other = admin.post(QUICK, {"shortcut": "refund", "title": "Refunds", "body": "Within 14 days."}, format="json")

    taken = admin.post(QUICK, {"shortcut": "HOURS", "title": "Again", "body": "x"}, format="json")
    renamed = admin.patch(f"{QUICK}{other.json()['id']}/", {"shortcut": "hours"}, format="json")

    for response in (taken, renamed):
        assert response.status_code == 400
        assert response.json()["problems"] == [
            {"where": "shortcut", "message": "/hours is already the shortcut of another quick reply."}
        ]
    assert admin.get(f"{QUICK}{first['id']}/").json()["title"] == "Hours"
    assert _count(alpha, QuickReply) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"shortcut": "", "title": "Hours", "body": "x"},
        {"shortcut": "opening hours", "title": "Hours", "body": "x"},
        {"shortcut": "hours", "title": "", "body": "x"},
        {"shortcut": "hours", "title": "Hours", "body": "   "},
        {"shortcut": "hours", "title": "Hours", "body": "x" * 4097},
        {"shortcut": "hours"},
    ],
    ids=["no-shortcut", "space-in-shortcut", "no-title", "blank-body", "long-body", "missing-fields"],
)
def test_a_wrong_quick_reply_is_a_400_and_stores_nothing(alpha, admin, body):
    response = admin.post(QUICK, body, format="json")
    assert response.status_code == 400 and response.json()
    assert _count(alpha, QuickReply) == 0


# --- who may change settings


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_only_those_who_manage_settings_change_teams_labels_and_quick_replies(alpha, api_client_for, role):
    client = api_client_for(alpha.member(role))
    with tenant_context(alpha.tenant):
        team = Team.objects.create(tenant=alpha.tenant, name="Support")
        label = Label.objects.create(tenant=alpha.tenant, name="VIP")
        quick = QuickReply.objects.create(tenant=alpha.tenant, shortcut="hours", title="Hours", body="9 to 5.")

    refused = [
        client.post(TEAMS, {"name": "Billing"}, format="json"),
        client.patch(f"{TEAMS}{team.pk}/", {"name": "Care"}, format="json"),
        client.delete(f"{TEAMS}{team.pk}/"),
        client.post(LABELS, {"name": "Late"}, format="json"),
        client.patch(f"{LABELS}{label.pk}/", {"name": "VVIP"}, format="json"),
        client.delete(f"{LABELS}{label.pk}/"),
        client.post(QUICK, {"shortcut": "x", "title": "x", "body": "x"}, format="json"),
        client.patch(f"{QUICK}{quick.pk}/", {"body": "x"}, format="json"),
        client.delete(f"{QUICK}{quick.pk}/"),
    ]

    assert [response.status_code for response in refused] == [403] * 9
    for path in (TEAMS, LABELS, QUICK, f"{TEAMS}{team.pk}/", f"{LABELS}{label.pk}/", f"{QUICK}{quick.pk}/"):
        assert client.get(path).status_code == 200
    with tenant_context(alpha.tenant):
        assert list(Team.objects.values_list("name", flat=True)) == ["Support"]
        assert list(Label.objects.values_list("name", flat=True)) == ["VIP"]
        assert QuickReply.objects.get().body == "9 to 5."


# --- availability and agents


def test_an_agent_sets_their_availability(alpha, agent, api_client_for):
    assert agent.get("/api/v1/inbox/availability/").json() == {"available": True}

    away = agent.put("/api/v1/inbox/availability/", {"available": False}, format="json")

    assert away.status_code == 200 and away.json() == {"available": False}
    assert agent.get("/api/v1/inbox/availability/").json() == {"available": False}
    with tenant_context(alpha.tenant):
        assert AgentStatus.objects.get().user_id == alpha.agent.user.pk
    assert agent.put("/api/v1/inbox/availability/", {}, format="json").status_code == 400
    viewer = api_client_for(alpha.viewer)
    assert viewer.put("/api/v1/inbox/availability/", {"available": False}, format="json").status_code == 403


def test_agents_lists_the_workspace_members_who_work_in_the_inbox(alpha, bravo, agent):
    agent.put("/api/v1/inbox/availability/", {"available": False}, format="json")

    response = agent.get("/api/v1/inbox/agents/")

    assert response.status_code == 200
    listed = {row["id"]: row for row in response.json()}
    assert set(listed) == {alpha.admin.user.pk, alpha.agent.user.pk, alpha.viewer.user.pk}
    assert listed[alpha.agent.user.pk] == {
        "id": alpha.agent.user.pk,
        "name": alpha.agent.user.get_full_name(),
        "available": False,
    }
    assert listed[alpha.admin.user.pk]["available"] is True
