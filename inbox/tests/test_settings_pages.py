"""The inbox's settings pages: read receipts, teams and members, labels, quick replies — each change
audited with its actor, clashes and bad input shown on the form with a 400 and nothing stored,
roles that may not change a thing refused, and another workspace's ids answered with 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import tenant_context
from inbox import settings_services, teamwork
from inbox.models import Conversation, ConversationLabel, Label, QuickReply, Team, TeamMember
from inbox.tests.factories import ConversationFactory
from inbox.tests.panel_support import second_agent

pytestmark = pytest.mark.django_db


def _audits(workspace, action: str) -> list[AuditEvent]:
    with tenant_context(workspace.tenant):
        return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def _count(workspace, model) -> int:
    with tenant_context(workspace.tenant):
        return model.objects.count()


# --- general


def test_every_member_of_the_inbox_sees_the_pages(alpha, login_client):
    client = login_client(alpha.viewer)
    for name in ("inbox:settings", "inbox:settings-teams", "inbox:settings-labels", "inbox:settings-quick-replies"):
        assert client.get(reverse(name)).status_code == 200, name


def test_the_portal_settings_page_links_the_inbox_settings(alpha, login_client):
    assert reverse("inbox:settings").encode() in login_client(alpha.admin).get(reverse("portal:settings")).content


def test_an_admin_turns_read_receipts_off_audited(alpha, login_client):
    response = login_client(alpha.admin).post(reverse("inbox:settings"), {})
    assert response.status_code == 302
    with tenant_context(alpha.tenant):
        assert teamwork.inbox_settings().send_read_receipts is False
    [audit] = _audits(alpha, "inbox.settings.update")
    assert audit.actor_id == alpha.admin.user_id
    assert audit.metadata == {"changes": {"send_read_receipts": [True, False]}}


def test_an_agent_cannot_change_read_receipts(alpha, login_client):
    assert login_client(alpha.agent).post(reverse("inbox:settings"), {}).status_code == 403
    with tenant_context(alpha.tenant):
        assert teamwork.inbox_settings().send_read_receipts is True
    assert _audits(alpha, "inbox.settings.update") == []


# --- teams


def test_a_team_is_created_renamed_staffed_and_deleted_each_audited(alpha, login_client):
    client = login_client(alpha.admin)
    response = client.post(reverse("inbox:settings-teams"), {"name": "  Support  "})
    with tenant_context(alpha.tenant):
        team = Team.objects.get()
    assert team.name == "Support" and response["Location"] == reverse("inbox:settings-team", args=[team.pk])
    team_url = reverse("inbox:settings-team", args=[team.pk])
    members_url = reverse("inbox:settings-team-members", args=[team.pk])
    assert client.post(team_url, {"name": "Customer care"}).status_code == 302
    assert client.post(members_url, {"user": alpha.agent.user_id}).status_code == 302
    page = client.get(team_url).content.decode()
    assert "Customer care" in page and alpha.agent.user.email in page
    assert client.post(members_url, {"user": alpha.agent.user_id, "remove": "1"}).status_code == 302
    with tenant_context(alpha.tenant):
        conversation = ConversationFactory()
        teamwork.conversation_team(conversation, team_id=team.pk, actor=alpha.admin.user)
        assert not TeamMember.objects.exists()
    assert client.post(reverse("inbox:settings-team-delete", args=[team.pk])).status_code == 302
    with tenant_context(alpha.tenant):
        assert not Team.objects.exists() and Conversation.objects.get(pk=conversation.pk).team_id is None
    actions = {
        "inbox.team.create": {"name": "Support"},
        "inbox.team.rename": {"changes": {"name": ["Support", "Customer care"]}},
        "inbox.team.member_add": {"user_id": alpha.agent.user_id},
        "inbox.team.member_remove": {"user_id": alpha.agent.user_id},
        "inbox.team.delete": {"name": "Customer care", "conversations": 1},
    }
    for action, metadata in actions.items():
        [audit] = _audits(alpha, action)
        assert (audit.actor_id, audit.metadata, audit.target_id) == (alpha.admin.user_id, metadata, str(team.pk))


def test_a_second_team_of_the_same_name_is_a_form_error(alpha, login_client):
    with tenant_context(alpha.tenant):
        settings_services.team_create(name="Sales", actor=alpha.admin.user)
    response = login_client(alpha.admin).post(reverse("inbox:settings-teams"), {"name": "sales"})
    assert response.status_code == 400
    assert "There is already a team called" in response.content.decode()
    assert _count(alpha, Team) == 1 and len(_audits(alpha, "inbox.team.create")) == 1


def test_only_the_workspaces_agents_join_a_team(alpha, bravo, login_client):
    with tenant_context(alpha.tenant):
        team = settings_services.team_create(name="Sales", actor=alpha.admin.user)
    response = login_client(alpha.admin).post(
        reverse("inbox:settings-team-members", args=[team.pk]), {"user": bravo.agent.user_id}
    )
    assert response.status_code == 400 and b"Select a valid choice" in response.content
    removing = login_client(alpha.admin).post(
        reverse("inbox:settings-team-members", args=[team.pk]), {"user": alpha.viewer.user_id, "remove": "1"}
    )
    assert removing.status_code == 400 and b"That person is not in this team." in removing.content
    assert _count(alpha, TeamMember) == 0


def test_an_agent_cannot_manage_teams(alpha, login_client):
    with tenant_context(alpha.tenant):
        team = settings_services.team_create(name="Sales", actor=alpha.admin.user)
    client = login_client(alpha.agent)
    assert client.post(reverse("inbox:settings-teams"), {"name": "Mine"}).status_code == 403
    assert (
        client.post(reverse("inbox:settings-team-members", args=[team.pk]), {"user": alpha.agent.user_id}).status_code
        == 403
    )
    assert client.post(reverse("inbox:settings-team-delete", args=[team.pk])).status_code == 403
    assert _count(alpha, Team) == 1 and _count(alpha, TeamMember) == 0


# --- labels


def test_a_label_is_created_recoloured_and_deleted_each_audited(alpha, login_client):
    client = login_client(alpha.admin)
    assert client.post(reverse("inbox:settings-labels"), {"name": "VIP", "color": "purple"}).status_code == 302
    with tenant_context(alpha.tenant):
        label = Label.objects.get()
        conversation = ConversationFactory()
        teamwork.conversation_label(conversation, label_id=label.pk, actor=alpha.admin.user)
    label_url = reverse("inbox:settings-label", args=[label.pk])
    assert client.post(label_url, {"name": "VIP", "color": "amber"}).status_code == 302
    assert client.post(reverse("inbox:settings-label-delete", args=[label.pk])).status_code == 302
    with tenant_context(alpha.tenant):
        assert not Label.objects.exists() and not ConversationLabel.objects.exists()
    assert _audits(alpha, "inbox.label.create")[0].metadata == {"name": "VIP", "color": "purple"}
    assert _audits(alpha, "inbox.label.update")[0].metadata == {"changes": {"color": ["purple", "amber"]}}
    assert _audits(alpha, "inbox.label.delete")[0].actor_id == alpha.admin.user_id


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "Urgent", "color": "red"}, "There is already a label called"),
        ({"name": "   ", "color": "red"}, "This field is required"),
        ({"name": "Later", "color": "pink"}, "Select a valid choice"),
    ],
    ids=["duplicate", "blank", "unknown-colour"],
)
def test_a_bad_label_is_a_form_error(alpha, login_client, data, message):
    with tenant_context(alpha.tenant):
        settings_services.label_create(name="urgent", color="red", actor=alpha.admin.user)
    response = login_client(alpha.admin).post(reverse("inbox:settings-labels"), data)
    assert response.status_code == 400 and message in response.content.decode()
    assert _count(alpha, Label) == 1


def test_an_agent_cannot_change_labels(alpha, login_client):
    assert (
        login_client(alpha.agent).post(reverse("inbox:settings-labels"), {"name": "x", "color": "red"}).status_code
        == 403
    )
    assert _count(alpha, Label) == 0


# --- quick replies


def test_an_agent_adds_a_quick_reply_and_its_text_stays_out_of_the_audit(alpha, login_client):
    data = {"shortcut": "/Hours", "title": "Opening hours", "body": "We are open 9 to 5, Monday to Friday."}
    assert login_client(alpha.agent).post(reverse("inbox:settings-quick-replies"), data).status_code == 302
    with tenant_context(alpha.tenant):
        reply = QuickReply.objects.get()
    assert (reply.shortcut, reply.created_by_id) == ("hours", alpha.agent.user_id)
    [audit] = _audits(alpha, "inbox.quick_reply.create")
    assert audit.metadata == {"shortcut": "hours", "title": "Opening hours"}
    assert "9 to 5" not in str(audit.metadata) and "9 to 5" not in audit.target_repr


def test_a_duplicate_shortcut_is_a_form_error_beside_the_shortcut(alpha, login_client):
    with tenant_context(alpha.tenant):
        settings_services.quick_reply_create(shortcut="hours", title="Hours", body="9 to 5", actor=alpha.admin.user)
    data = {"shortcut": "hours", "title": "Other hours", "body": "10 to 6"}
    response = login_client(alpha.agent).post(reverse("inbox:settings-quick-replies"), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "/hours is already the shortcut of another quick reply." in page
    assert 'class="field has-error"' in page and "10 to 6" in page  # what was typed is kept
    assert _count(alpha, QuickReply) == 1


def test_a_shortcut_with_spaces_is_refused(alpha, login_client):
    data = {"shortcut": "opening hours", "title": "Hours", "body": "9 to 5"}
    response = login_client(alpha.agent).post(reverse("inbox:settings-quick-replies"), data)
    assert response.status_code == 400 and b"A shortcut is one word" in response.content


def test_only_the_author_or_an_admin_changes_a_quick_reply(alpha, login_client):
    bea = second_agent(alpha)
    with tenant_context(alpha.tenant):
        reply = settings_services.quick_reply_create(shortcut="hours", title="Hours", body="9 to 5", actor=bea.user)
    url = reverse("inbox:settings-quick-reply", args=[reply.pk])
    data = {"shortcut": "hours", "title": "Hours", "body": "9 to 6"}
    assert login_client(alpha.agent).post(url, data).status_code == 403
    assert (
        login_client(alpha.agent).post(reverse("inbox:settings-quick-reply-delete", args=[reply.pk])).status_code == 403
    )
    assert login_client(bea).post(url, data).status_code == 302
    assert login_client(alpha.admin).post(url, {**data, "shortcut": "times"}).status_code == 302
    with tenant_context(alpha.tenant):
        reply.refresh_from_db()
    assert (reply.shortcut, reply.body) == ("times", "9 to 6")
    updates = _audits(alpha, "inbox.quick_reply.update")
    assert [(a.actor_id, a.metadata["changed"]) for a in updates] == [
        (bea.user_id, ["body"]),
        (alpha.admin.user_id, ["shortcut"]),
    ]
    assert (
        login_client(alpha.admin).post(reverse("inbox:settings-quick-reply-delete", args=[reply.pk])).status_code == 302
    )
    assert _count(alpha, QuickReply) == 0 and len(_audits(alpha, "inbox.quick_reply.delete")) == 1


def test_a_viewer_cannot_add_quick_replies(alpha, login_client):
    data = {"shortcut": "hours", "title": "Hours", "body": "9 to 5"}
    assert login_client(alpha.viewer).post(reverse("inbox:settings-quick-replies"), data).status_code == 403
    assert _count(alpha, QuickReply) == 0


# --- another workspace's ids


def test_another_workspaces_team_label_and_quick_reply_are_404_everywhere(alpha, bravo, login_client):
    with tenant_context(bravo.tenant):
        team = settings_services.team_create(name="Theirs", actor=bravo.admin.user)
        label = settings_services.label_create(name="Theirs", color="red", actor=bravo.admin.user)
        reply = settings_services.quick_reply_create(shortcut="theirs", title="T", body="x", actor=bravo.admin.user)
    client = login_client(alpha.admin)
    gets = [
        reverse("inbox:settings-team", args=[team.pk]),
        reverse("inbox:settings-label", args=[label.pk]),
        reverse("inbox:settings-quick-reply", args=[reply.pk]),
    ]
    posts = [
        (reverse("inbox:settings-team", args=[team.pk]), {"name": "Mine"}),
        (reverse("inbox:settings-team-members", args=[team.pk]), {"user": alpha.agent.user_id}),
        (reverse("inbox:settings-team-delete", args=[team.pk]), {}),
        (reverse("inbox:settings-label", args=[label.pk]), {"name": "Mine", "color": "red"}),
        (reverse("inbox:settings-label-delete", args=[label.pk]), {}),
        (reverse("inbox:settings-quick-reply", args=[reply.pk]), {"shortcut": "m", "title": "M", "body": "m"}),
        (reverse("inbox:settings-quick-reply-delete", args=[reply.pk]), {}),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    with tenant_context(bravo.tenant):
        assert Team.objects.get().name == "Theirs" and not TeamMember.objects.exists()
        assert Label.objects.get().name == "Theirs" and QuickReply.objects.get().shortcut == "theirs"
    assert _audits(alpha, "inbox.team.rename") == [] and len(_audits(bravo, "inbox.team.create")) == 1
