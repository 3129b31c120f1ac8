"""The conversation's side panel: what it shows, each action through the client (an event with its
actor, the refreshed panel for htmx, a redirect otherwise), who may do what, snoozing in the
workspace's time zone, round-robin across available agents, the sections other apps add, and
another workspace's ids answered with 404 and nothing changed (availability: test_panel_availability)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from aerostic.core.tenant_context import tenant_context
from campaigns.models import Campaign, CampaignMessage
from campaigns.tests.factories import CampaignFactory
from inbox import settings_services, teamwork
from inbox.contact_panel import register_contact_panel_section, unregister_contact_panel_section
from inbox.models import Conversation, ConversationEvent, ConversationLabel, Label, Team, TeamMember
from inbox.tests.factories import ConversationFactory
from inbox.tests.panel_support import htmx_post, inbox_world, second_agent

pytestmark = pytest.mark.django_db
Kind = ConversationEvent.Kind


@pytest.fixture
def world(alpha):
    return inbox_world(alpha)


def _url(name: str, conversation) -> str:
    return reverse(f"inbox:{name}", args=[conversation.pk])


def _reloaded(workspace, conversation) -> Conversation:
    with tenant_context(workspace.tenant):
        return Conversation.objects.select_related("assignee", "team").get(pk=conversation.pk)


def _page(response) -> str:
    return " ".join(response.content.decode().split())


def _events(workspace, conversation) -> list[ConversationEvent]:
    with tenant_context(workspace.tenant):
        return list(ConversationEvent.objects.filter(conversation=conversation).order_by("pk"))


# --- what the panel shows


def test_the_panel_shows_state_window_contact_and_the_admins_gdpr_links(alpha, world, login_client):
    response = login_client(alpha.admin).get(_url("panel", world.conversation))
    assert response.status_code == 200
    page = _page(response)
    assert "Resolve" in page and "Mark pending" in page and "Snooze" in page
    assert "Open</span> until" in page  # the window
    assert world.contact.phone_hint in page and "Show number" in page  # admins may reveal
    assert "Home city" in page and "Pune" in page  # attribute by its label
    assert "VIPs" in page and "Opted in</span>" in page and "team member ·" in page  # list, consent, its history
    assert reverse("contacts:detail", args=[world.contact.pk]) in page
    assert reverse("contacts:data-export", args=[world.contact.pk]) in page
    assert reverse("contacts:erase", args=[world.contact.pk]) in page


def test_an_agent_sees_no_gdpr_actions_nor_the_full_number(alpha, world, login_client):
    page = login_client(alpha.agent).get(_url("panel", world.conversation)).content.decode()
    assert reverse("contacts:detail", args=[world.contact.pk]) in page
    assert reverse("contacts:data-export", args=[world.contact.pk]) not in page
    assert reverse("contacts:erase", args=[world.contact.pk]) not in page
    assert "Show number" not in page


def test_a_closed_window_says_since_when_in_the_workspace_time_zone(alpha, world, login_client):
    alpha.tenant.timezone = "Asia/Kolkata"
    alpha.tenant.save()
    closed_at = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)  # 15:30 in Kolkata
    with tenant_context(alpha.tenant):
        Conversation.objects.filter(pk=world.conversation.pk).update(window_expires_at=closed_at)
    page = _page(login_client(alpha.admin).get(_url("panel", world.conversation)))
    assert "Closed</span> since Tue 4 Mar 15:30" in page


def test_a_customer_without_a_number_has_no_contact_part(alpha, world, login_client):
    with tenant_context(alpha.tenant):
        hidden = ConversationFactory(phone_number=world.phone, contact=None, customer_name="kiwi_fan")
    page = _page(login_client(alpha.agent).get(_url("panel", hidden)))
    assert "kiwi_fan" in page and "without sharing a number" in page and "Campaigns" not in page


def test_a_conversation_outside_what_the_agent_sees_is_404(alpha, world, login_client):
    with tenant_context(alpha.tenant):
        teamwork.conversation_assign(world.conversation, assignee_id=alpha.admin.user_id, actor=alpha.admin.user)
    assert login_client(alpha.agent).get(_url("panel", world.conversation)).status_code == 404


# --- assignment


def test_an_admin_assigns_an_agent_and_the_panel_comes_back_refreshed(alpha, world, login_client):
    response = htmx_post(
        login_client(alpha.admin), _url("assign", world.conversation), {"assignee": alpha.agent.user_id}
    )
    assert response.status_code == 200
    assert 'id="inbox-panel"' in response.content.decode()
    assert json.loads(response["HX-Trigger"]) == {"inbox-conversation-changed": {"id": world.conversation.pk}}
    assert _reloaded(alpha, world.conversation).assignee_id == alpha.agent.user_id
    [event] = _events(alpha, world.conversation)
    assert (event.kind, event.actor_id, event.data["assignee_id"]) == (
        Kind.ASSIGNED,
        alpha.admin.user_id,
        alpha.agent.user_id,
    )


def test_without_htmx_an_action_redirects_to_the_conversation(alpha, world, login_client):
    response = login_client(alpha.admin).post(_url("assign", world.conversation), {"assignee": "me"})
    assert response.status_code == 302
    from inbox.views.panel import _conversation_url

    assert response["Location"] == _conversation_url(world.conversation.pk)


def test_an_agent_takes_an_unassigned_conversation_and_gives_it_back(alpha, world, login_client):
    client = login_client(alpha.agent)
    assert htmx_post(client, _url("assign", world.conversation), {"assignee": "me"}).status_code == 200
    assert _reloaded(alpha, world.conversation).assignee_id == alpha.agent.user_id
    assert htmx_post(client, _url("assign", world.conversation), {"assignee": ""}).status_code == 200
    assert _reloaded(alpha, world.conversation).assignee_id is None
    assert [(e.kind, e.actor_id) for e in _events(alpha, world.conversation)] == [
        (Kind.ASSIGNED, alpha.agent.user_id),
        (Kind.UNASSIGNED, alpha.agent.user_id),
    ]


def test_an_agent_without_inbox_assign_cannot_assign_someone_else(alpha, world, login_client):
    bea = second_agent(alpha)
    response = htmx_post(login_client(alpha.agent), _url("assign", world.conversation), {"assignee": bea.user_id})
    assert response.status_code == 403
    assert "Your role does not allow assigning conversations to others." in response.content.decode()
    assert _reloaded(alpha, world.conversation).assignee_id is None and _events(alpha, world.conversation) == []


def test_an_agent_cannot_take_a_teammates_conversation(alpha, world, support_team, login_client):
    team, bea = support_team
    with tenant_context(alpha.tenant):
        teamwork.conversation_team(world.conversation, team_id=team.pk, actor=alpha.admin.user)
        teamwork.conversation_assign(world.conversation, assignee_id=bea.user_id, actor=alpha.admin.user)
    response = login_client(alpha.agent).post(_url("assign", world.conversation), {"assignee": "me"})
    assert response.status_code == 403 and b"assigning conversations to others" in response.content
    assert _reloaded(alpha, world.conversation).assignee_id == bea.user_id


def test_a_viewer_changes_nothing(alpha, world, login_client):
    client = login_client(alpha.viewer)
    for name, data in (("assign", {"assignee": "me"}), ("status", {"status": "resolved"})):
        assert htmx_post(client, _url(name, world.conversation), data).status_code == 403
    assert _events(alpha, world.conversation) == []


def test_assigning_a_member_of_another_workspace_is_refused_in_the_panel(alpha, bravo, world, login_client):
    response = htmx_post(
        login_client(alpha.admin), _url("assign", world.conversation), {"assignee": bravo.agent.user_id}
    )
    assert response.status_code == 400
    assert "That person is not an agent of this workspace." in response.content.decode()
    assert _reloaded(alpha, world.conversation).assignee_id is None


# --- team and round-robin


@pytest.fixture
def support_team(alpha):
    bea = second_agent(alpha)
    with tenant_context(alpha.tenant):
        team = settings_services.team_create(name="Support", actor=alpha.admin.user)
        for member in (alpha.agent, bea):
            settings_services.team_member_add(team=team, user_id=member.user_id, actor=alpha.admin.user)
    return team, bea


def test_round_robin_alternates_between_two_available_agents_and_skips_an_away_one(
    alpha, world, support_team, login_client
):
    team, bea = support_team
    with tenant_context(alpha.tenant):
        others = [ConversationFactory(phone_number=world.phone) for _ in range(2)]
    client = login_client(alpha.admin)
    conversations = [world.conversation, *others]
    first, second = (
        htmx_post(client, _url("team", c), {"team": team.pk, "round_robin": "1"}) for c in conversations[:2]
    )
    assert first.status_code == second.status_code == 200
    assignees = {_reloaded(alpha, c).assignee_id for c in conversations[:2]}
    assert assignees == {alpha.agent.user_id, bea.user_id}

    with tenant_context(alpha.tenant):
        teamwork.availability_set(bea.user, available=False)
    htmx_post(client, _url("team", conversations[2]), {"team": team.pk, "round_robin": "1"})
    assert _reloaded(alpha, conversations[2]).assignee_id == alpha.agent.user_id  # bea is away
    kinds = [e.kind for e in _events(alpha, conversations[2])]
    assert kinds == [Kind.TEAM, Kind.ASSIGNED]
    assert all(e.actor_id == alpha.admin.user_id for e in _events(alpha, conversations[2]))


def test_round_robin_next_never_picks_an_away_member(alpha, support_team):
    team, bea = support_team
    with tenant_context(alpha.tenant):
        teamwork.availability_set(alpha.agent.user, available=False)
        picks = {teamwork.round_robin_next(team).pk for _ in range(3)}
        assert picks == {bea.user_id}
        teamwork.availability_set(bea.user, available=False)
        assert teamwork.round_robin_next(team) is None


def test_round_robin_with_everyone_away_says_so_and_leaves_it_unassigned(alpha, world, support_team, login_client):
    team, bea = support_team
    with tenant_context(alpha.tenant):
        for member in (alpha.agent, bea):
            teamwork.availability_set(member.user, available=False)
    response = htmx_post(
        login_client(alpha.admin), _url("team", world.conversation), {"team": team.pk, "round_robin": "1"}
    )
    assert "No one in Support is available right now" in response.content.decode()
    conversation = _reloaded(alpha, world.conversation)
    assert conversation.team_id == team.pk and conversation.assignee_id is None


def test_moving_teams_needs_inbox_assign(alpha, world, support_team, login_client):
    team, _ = support_team
    assert htmx_post(login_client(alpha.agent), _url("team", world.conversation), {"team": team.pk}).status_code == 403
    assert _reloaded(alpha, world.conversation).team_id is None


# --- labels


def test_labels_are_added_and_removed_with_events(alpha, world, login_client):
    with tenant_context(alpha.tenant):
        urgent = settings_services.label_create(name="Urgent", color="red", actor=alpha.admin.user)
    client = login_client(alpha.agent)
    response = htmx_post(client, _url("labels", world.conversation), {"label": urgent.pk, "op": "add"})
    assert response.status_code == 200 and "inbox-label-red" in response.content.decode()
    htmx_post(client, _url("labels", world.conversation), {"label": urgent.pk, "op": "remove"})
    with tenant_context(alpha.tenant):
        assert not ConversationLabel.objects.filter(conversation=world.conversation).exists()
    assert [(e.kind, e.actor_id, e.data["label"]) for e in _events(alpha, world.conversation)] == [
        (Kind.LABELLED, alpha.agent.user_id, "Urgent"),
        (Kind.UNLABELLED, alpha.agent.user_id, "Urgent"),
    ]


# --- states and snoozing


@pytest.mark.parametrize(
    ("status", "kind"),
    [("resolved", Kind.RESOLVED), ("pending", Kind.PENDING)],
    ids=["resolve", "mark-pending"],
)
def test_status_changes_write_an_event_with_the_actor(alpha, world, login_client, status, kind):
    client = login_client(alpha.agent)
    assert htmx_post(client, _url("status", world.conversation), {"status": status}).status_code == 200
    assert htmx_post(client, _url("status", world.conversation), {"status": "open"}).status_code == 200
    assert [(e.kind, e.actor_id) for e in _events(alpha, world.conversation)] == [
        (kind, alpha.agent.user_id),
        (Kind.REOPENED, alpha.agent.user_id),
    ]


def test_snooze_for_an_hour(alpha, world, login_client):
    before = timezone.now()
    htmx_post(login_client(alpha.agent), _url("status", world.conversation), {"status": "snoozed", "snooze": "1h"})
    conversation = _reloaded(alpha, world.conversation)
    assert conversation.status == "snoozed"
    assert before + timedelta(minutes=59) < conversation.snoozed_until < timezone.now() + timedelta(minutes=61)
    [event] = _events(alpha, world.conversation)
    assert event.kind == Kind.SNOOZED and event.actor_id == alpha.agent.user_id


def test_snooze_until_tomorrow_morning_in_the_workspace_time_zone(alpha, world, login_client):
    alpha.tenant.timezone = "Asia/Kolkata"
    alpha.tenant.save()
    htmx_post(
        login_client(alpha.agent), _url("status", world.conversation), {"status": "snoozed", "snooze": "tomorrow"}
    )
    zone = ZoneInfo("Asia/Kolkata")
    local = _reloaded(alpha, world.conversation).snoozed_until.astimezone(zone)
    assert (local.hour, local.minute) == (9, 0)
    assert local.date() == (timezone.now().astimezone(zone) + timedelta(days=1)).date()


def test_a_custom_snooze_is_read_in_the_workspace_time_zone(alpha, world, login_client):
    alpha.tenant.timezone = "America/Sao_Paulo"
    alpha.tenant.save()
    wanted = (
        (timezone.now() + timedelta(days=3))
        .astimezone(ZoneInfo("America/Sao_Paulo"))
        .replace(hour=14, minute=30, second=0, microsecond=0)
    )
    data = {"status": "snoozed", "snooze": "custom", "until": wanted.strftime("%Y-%m-%dT%H:%M")}
    assert htmx_post(login_client(alpha.agent), _url("status", world.conversation), data).status_code == 200
    assert _reloaded(alpha, world.conversation).snoozed_until == wanted


@pytest.mark.parametrize(
    "data",
    [
        {"status": "snoozed", "snooze": "custom", "until": "2020-01-01T09:00"},
        {"status": "snoozed", "snooze": "custom", "until": ""},
        {"status": "snoozed", "snooze": "next-year"},
        {"status": "closed"},
    ],
    ids=["past", "custom-without-time", "unknown-choice", "unknown-state"],
)
def test_a_bad_state_change_is_refused_in_the_panel_and_changes_nothing(alpha, world, login_client, data):
    response = htmx_post(login_client(alpha.agent), _url("status", world.conversation), data)
    assert response.status_code == 400
    assert 'class="alert alert-error"' in response.content.decode()
    assert _reloaded(alpha, world.conversation).status == "open" and _events(alpha, world.conversation) == []


def test_a_past_snooze_says_why(alpha, world, login_client):
    data = {"status": "snoozed", "snooze": "custom", "until": "2020-01-01T09:00"}
    response = login_client(alpha.agent).post(_url("status", world.conversation), data)
    assert response.status_code == 400 and b"Snooze until a time in the future." in response.content


# --- sections other apps add


def test_a_registered_section_shows_and_one_that_declines_does_not(alpha, world, login_client):
    register_contact_panel_section(
        "Loyalty", lambda request, contact: format_html("<b>{} has 40 points</b>", contact.name)
    )
    register_contact_panel_section("Hidden", lambda request, contact: None)
    try:
        page = login_client(alpha.agent).get(_url("panel", world.conversation)).content.decode()
    finally:
        unregister_contact_panel_section("Loyalty")
        unregister_contact_panel_section("Hidden")
    assert "Loyalty" in page and "<b>Asha Rao has 40 points</b>" in page and "Hidden" not in page


def test_the_campaigns_section_shows_a_recipients_outcome(alpha, world, login_client):
    with tenant_context(alpha.tenant):
        campaign = CampaignFactory(
            name="Diwali offers", phone_number=world.phone, status=Campaign.Status.COMPLETED, launched_at=timezone.now()
        )
        CampaignMessage.objects.create(
            campaign=campaign,
            variant=campaign.variants.get(),
            contact=world.contact,
            state=CampaignMessage.State.DELIVERED,
            delivered_at=timezone.now(),
        )
    page = login_client(alpha.agent).get(_url("panel", world.conversation)).content.decode()
    assert "Campaigns" in page and "Diwali offers" in page and "Delivered" in page
    assert reverse("campaigns:detail", args=[campaign.pk]) in page


# --- another workspace's ids


def test_every_panel_route_answers_404_for_another_workspaces_conversation(alpha, bravo, login_client):
    theirs = inbox_world(bravo).conversation
    client = login_client(alpha.admin)
    assert client.get(_url("panel", theirs)).status_code == 404
    for name, data in (
        ("assign", {"assignee": "me"}),
        ("team", {"team": ""}),
        ("labels", {"label": "1", "op": "add"}),
        ("status", {"status": "resolved"}),
    ):
        assert htmx_post(client, _url(name, theirs), data).status_code == 404, name
    assert _events(bravo, theirs) == [] and _reloaded(bravo, theirs).status == "open"


def test_another_workspaces_team_or_label_is_404_on_our_conversation(alpha, bravo, world, login_client):
    with tenant_context(bravo.tenant):
        their_team = Team.objects.create(name="Theirs")
        TeamMember.objects.create(team=their_team, user=bravo.agent.user)
        their_label = Label.objects.create(name="Theirs")
    client = login_client(alpha.admin)
    assert htmx_post(client, _url("team", world.conversation), {"team": their_team.pk}).status_code == 404
    assert (
        htmx_post(client, _url("labels", world.conversation), {"label": their_label.pk, "op": "add"}).status_code == 404
    )
    assert _events(alpha, world.conversation) == []
