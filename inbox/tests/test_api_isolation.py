"""Isolation of the inbox API: a member of another workspace gets a 404 on every route that names
one of alpha's conversations, teams, labels or quick replies (and on a retry naming alpha's send
from their own conversation); an agent who may not see every conversation gets the same 404 for
one assigned to someone else; an anonymous caller a 401. Each refusal changes nothing and
enqueues nothing."""

from __future__ import annotations

from dataclasses import dataclass

import django_rq
import pytest
from django.utils import timezone

from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import platform_context, tenant_context
from inbox import settings_services
from inbox.models import (
    AgentStatus,
    Conversation,
    ConversationEvent,
    ConversationLabel,
    Label,
    Mention,
    QuickReply,
    Team,
    TeamMember,
)
from inbox.tests.api_support import CUSTOMER, customer_writes, number_of
from tenants.models import Tenant
from whatsapp.models import OutboundMessage
from whatsapp.tests.factories import OutboundMessageFactory

pytestmark = pytest.mark.django_db

C = "/api/v1/conversations/{conversation}/"
CONVERSATION_ROUTES = [
    ("GET", C, None),
    ("GET", C + "messages/", None),
    ("POST", C + "messages/", {"text": "Hello"}),
    ("POST", C + "retry/", {"outbound_id": "{outbound}"}),
    ("POST", C + "assign/", {"assignee_id": None}),
    ("POST", C + "team/", {"team_id": None}),
    ("POST", C + "status/", {"status": "resolved"}),
    ("POST", C + "labels/", {"add": []}),
    ("POST", C + "notes/", {"body": "A note"}),
    ("POST", C + "read/", {}),
]
SETTINGS_ROUTES = [
    ("GET", "/api/v1/inbox/teams/{team}/", None),
    ("PATCH", "/api/v1/inbox/teams/{team}/", {"name": "Renamed"}),
    ("DELETE", "/api/v1/inbox/teams/{team}/", None),
    ("GET", "/api/v1/inbox/labels/{label}/", None),
    ("PATCH", "/api/v1/inbox/labels/{label}/", {"name": "Renamed"}),
    ("DELETE", "/api/v1/inbox/labels/{label}/", None),
    ("GET", "/api/v1/inbox/quick-replies/{quick_reply}/", None),
    ("PATCH", "/api/v1/inbox/quick-replies/{quick_reply}/", {"body": "Renamed"}),
    ("DELETE", "/api/v1/inbox/quick-replies/{quick_reply}/", None),
]
COLLECTIONS = [
    ("GET", "/api/v1/conversations/", None),
    ("GET", "/api/v1/conversations/unread/", None),
    ("GET", "/api/v1/inbox/teams/", None),
    ("GET", "/api/v1/inbox/labels/", None),
    ("GET", "/api/v1/inbox/quick-replies/", None),
    ("GET", "/api/v1/inbox/availability/", None),
    ("GET", "/api/v1/inbox/agents/", None),
]


@dataclass
class Alpha:
    conversation: Conversation
    ids: dict[str, int]


@pytest.fixture
def alpha_inbox(alpha) -> Alpha:
    """Alpha's conversation (the customer's window open, one unread message, one failed send),
    assigned to its admin, in a team, labelled; a quick reply."""
    phone = number_of(alpha)
    conversation = customer_writes(phone, name="Asha Alpha")
    actor = alpha.admin.user
    with tenant_context(alpha.tenant):
        team = settings_services.team_create(name="Alpha support", member_ids=[alpha.admin.user.pk], actor=actor)
        label = settings_services.label_create(name="Alpha VIP", actor=actor)
        quick_reply = settings_services.quick_reply_create(shortcut="hours", title="Hours", body="9 to 5.", actor=actor)
        failed = OutboundMessageFactory(phone_number=phone, recipient=CUSTOMER, state="failed", origin="inbox")
        Conversation.objects.filter(pk=conversation.pk).update(assignee=actor, team=team)
        ConversationLabel.objects.create(tenant=alpha.tenant, conversation=conversation, label=label)
    ids = {
        "conversation": conversation.pk,
        "team": team.pk,
        "label": label.pk,
        "quick_reply": quick_reply.pk,
        "outbound": failed.pk,
    }
    return Alpha(conversation=conversation, ids=ids)


def _snapshot(tenant: Tenant) -> tuple:
    with platform_context("test snapshot"):
        rows = (
            sorted(
                Conversation.all_tenants.filter(tenant=tenant).values_list(
                    "pk", "status", "snoozed_until", "assignee_id", "team_id", "unread_count"
                )
            ),
            ConversationEvent.all_tenants.filter(tenant=tenant).count(),
            Mention.all_tenants.filter(tenant=tenant).count(),
            sorted(ConversationLabel.all_tenants.filter(tenant=tenant).values_list("conversation_id", "label_id")),
            sorted(Team.all_tenants.filter(tenant=tenant).values_list("pk", "name")),
            sorted(TeamMember.all_tenants.filter(tenant=tenant).values_list("team_id", "user_id")),
            sorted(Label.all_tenants.filter(tenant=tenant).values_list("pk", "name", "color")),
            sorted(QuickReply.all_tenants.filter(tenant=tenant).values_list("pk", "shortcut", "title", "body")),
            sorted(AgentStatus.all_tenants.filter(tenant=tenant).values_list("user_id", "available")),
            sorted(OutboundMessage.all_tenants.filter(tenant=tenant).values_list("pk", "state")),
            AuditEvent.all_tenants.filter(tenant=tenant).exclude(action__startswith="auth.").count(),
        )
    queued = sum(django_rq.get_queue(name).count for name in ("default", "low", "sends"))
    return rows, queued


def _call(client, method: str, path: str, body: dict | None, ids: dict[str, int]):
    path = path.format(**ids)
    if body is not None:
        body = {key: ids.get(str(value).strip("{}"), value) for key, value in body.items()}
    if method == "GET":
        return client.get(path)
    return getattr(client, method.lower())(path, body or {}, format="json")


def _route_id(route: tuple) -> str:
    return f"{route[0]} {route[1]}"


@pytest.mark.parametrize("route", CONVERSATION_ROUTES + SETTINGS_ROUTES, ids=_route_id)
def test_a_member_of_another_workspace_gets_a_404_for_alpha_s_ids(alpha, bravo, alpha_inbox, api_client_for, route):
    before = _snapshot(alpha.tenant)

    response = _call(api_client_for(bravo.admin), *route, alpha_inbox.ids)

    assert response.status_code == 404, response.content
    assert response.json()["detail"]
    assert _snapshot(alpha.tenant) == before


def test_another_workspace_s_collections_hold_nothing_of_alpha(alpha, bravo, alpha_inbox, api_client_for):
    client = api_client_for(bravo.admin)
    answers = {path: _call(client, method, path, body, alpha_inbox.ids) for method, path, body in COLLECTIONS}

    assert {response.status_code for response in answers.values()} == {200}
    assert answers["/api/v1/conversations/"].json() == {"results": [], "next_cursor": None}
    assert answers["/api/v1/conversations/unread/"].json() == {"mine": 0, "unassigned": 0, "team": 0, "all": 0}
    for path in ("/api/v1/inbox/teams/", "/api/v1/inbox/labels/", "/api/v1/inbox/quick-replies/"):
        assert answers[path].json() == [], path
    bravo_users = {bravo.admin.user.pk, bravo.agent.user.pk, bravo.viewer.user.pk}
    assert {row["id"] for row in answers["/api/v1/inbox/agents/"].json()} == bravo_users


def test_alpha_s_send_label_team_and_agent_are_unknown_from_another_workspace_s_conversation(
    alpha, bravo, alpha_inbox, api_client_for
):
    own = customer_writes(number_of(bravo), name="Bruno Bravo")
    client = api_client_for(bravo.admin)
    path = f"/api/v1/conversations/{own.pk}/"
    before = _snapshot(alpha.tenant), _snapshot(bravo.tenant)[0]

    retry = client.post(path + "retry/", {"outbound_id": alpha_inbox.ids["outbound"]}, format="json")
    labels = client.post(path + "labels/", {"add": [alpha_inbox.ids["label"]]}, format="json")
    team = client.post(path + "team/", {"team_id": alpha_inbox.ids["team"]}, format="json")
    assign = client.post(path + "assign/", {"assignee_id": alpha.agent.user.pk}, format="json")
    members = client.post("/api/v1/inbox/teams/", {"name": "Mixed", "members": [alpha.agent.user.pk]}, format="json")

    assert retry.status_code == 404
    assert (labels.status_code, labels.json()["detail"]) == (400, "There is no such label.")
    assert (team.status_code, team.json()["detail"]) == (400, "There is no such team.")
    assert assign.status_code == 400 and "not an agent of this workspace" in assign.json()["detail"]
    assert members.status_code == 400
    assert (_snapshot(alpha.tenant), _snapshot(bravo.tenant)[0]) == before


# Moving a conversation to a team needs INBOX_ASSIGN, which agents lack: refused (403) before any lookup.
AGENT_ROUTES = [route for route in CONVERSATION_ROUTES if not route[1].endswith("team/")]


@pytest.mark.parametrize("route", AGENT_ROUTES, ids=_route_id)
def test_an_agent_gets_a_404_for_a_conversation_assigned_to_someone_else(alpha, alpha_inbox, api_client_for, route):
    before = _snapshot(alpha.tenant)

    response = _call(api_client_for(alpha.agent), *route, alpha_inbox.ids)

    # The agent may not reply to it nor act on it: the same answer as for a conversation that is not there.
    assert response.status_code == 404, response.content
    assert _snapshot(alpha.tenant) == before


def test_an_agent_does_not_list_nor_count_a_conversation_assigned_to_someone_else(alpha, alpha_inbox, api_client_for):
    agent = api_client_for(alpha.agent)
    with tenant_context(alpha.tenant):
        Conversation.objects.filter(pk=alpha_inbox.conversation.pk).update(last_message_at=timezone.now())

    assert agent.get("/api/v1/conversations/", {"state": "any"}).json()["results"] == []
    assert agent.get("/api/v1/conversations/unread/").json()["all"] == 0
    admin = api_client_for(alpha.admin)
    assert [row["id"] for row in admin.get("/api/v1/conversations/").json()["results"]] == [alpha_inbox.conversation.pk]


def test_an_agent_in_the_team_sees_the_team_s_conversation(alpha, alpha_inbox, api_client_for):
    with tenant_context(alpha.tenant):
        TeamMember.objects.create(tenant=alpha.tenant, team_id=alpha_inbox.ids["team"], user=alpha.agent.user)

    response = api_client_for(alpha.agent).get(f"/api/v1/conversations/{alpha_inbox.conversation.pk}/")

    assert response.status_code == 200


@pytest.mark.parametrize("route", CONVERSATION_ROUTES + SETTINGS_ROUTES + COLLECTIONS, ids=_route_id)
def test_an_anonymous_caller_gets_a_401_and_nothing_changes(alpha, alpha_inbox, route):
    from rest_framework.test import APIClient

    before = _snapshot(alpha.tenant)

    response = _call(APIClient(), *route, alpha_inbox.ids)

    assert response.status_code == 401
    assert _snapshot(alpha.tenant) == before
