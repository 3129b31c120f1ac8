"""The platform console for the team inbox: every page opens across workspaces; staff edits go
through inbox.settings_services in the row's workspace (audited, the staff member the actor);
activity, mentions and media files are read-only, with no note text and no link to a file."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import platform_context, tenant_context
from aerostic.core.tests.admin_forms import change_form_data, inline_prefix, messages_of, staff_client
from inbox import settings_services, teamwork
from inbox.models import (
    AgentStatus,
    Conversation,
    ConversationEvent,
    InboxSettings,
    Label,
    MediaFile,
    Mention,
    QuickReply,
    Team,
    TeamMember,
)
from inbox.tests.panel_support import inbox_world

pytestmark = pytest.mark.django_db

INBOX_MODELS = (
    Conversation,
    Team,
    Label,
    QuickReply,
    InboxSettings,
    ConversationEvent,
    Mention,
    AgentStatus,
    MediaFile,
)


def _url(model, page: str = "changelist", *args) -> str:
    return reverse(f"admin:inbox_{model._meta.model_name}_{page}", args=args)


@pytest.fixture
def rows(alpha, bravo):
    """Each workspace with a conversation assigned to its agent in a team, a label on it, a note
    mentioning the admin, a quick reply, settings, an away agent and a media file."""
    made = {}
    for workspace in (alpha, bravo):
        world = inbox_world(workspace)
        admin_user = workspace.admin.user
        with tenant_context(workspace.tenant):
            team = settings_services.team_create(name=f"Team {workspace.tenant.slug}", actor=admin_user)
            settings_services.team_member_add(team=team, user_id=workspace.agent.user_id, actor=admin_user)
            label = settings_services.label_create(name="Urgent", color="red", actor=admin_user)
            teamwork.conversation_team(world.conversation, team_id=team.pk, actor=admin_user)
            teamwork.conversation_assign(world.conversation, assignee_id=workspace.agent.user_id, actor=admin_user)
            teamwork.conversation_label(world.conversation, label_id=label.pk, actor=admin_user)
            event = teamwork.note_add(world.conversation, body="Secret note about the refund", actor=admin_user)
            Mention.objects.create(event=event, conversation=world.conversation, user=workspace.agent.user)
            quick_reply = settings_services.quick_reply_create(
                shortcut="hours", title="Opening hours", body="9 to 5", actor=admin_user
            )
            settings_services.inbox_settings_update(send_read_receipts=False, actor=admin_user)
            settings_services.availability_change(user=workspace.agent.user, available=False, actor=admin_user)
            media = MediaFile.objects.create(
                media_id=f"media-{workspace.tenant.slug}",
                file=f"inbox-media/2025/05/{workspace.tenant.slug}-passport.jpg",
                mime_type="image/jpeg",
                size=1234,
                sha256="0" * 64,
                filename="passport.jpg",
            )
        made[workspace.tenant.slug] = {
            "world": world,
            "team": team,
            "label": label,
            "quick_reply": quick_reply,
            "media": media,
        }
    return made


@pytest.mark.parametrize("model", INBOX_MODELS, ids=lambda model: model.__name__)
def test_changelists_open_for_a_superuser_across_workspaces(rows, model):
    response = staff_client().get(_url(model))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 2  # alpha's and bravo's


def test_the_conversation_list_shows_and_filters_assignee_team_and_unread(alpha, rows):
    client = staff_client()
    page = client.get(_url(Conversation)).content.decode()
    assert alpha.agent.user.email in page and "Team alpha" in page
    filtered = client.get(_url(Conversation), {"team__id__exact": rows["alpha"]["team"].pk})
    assert filtered.context["cl"].result_count == 1
    assert client.get(_url(Conversation), {"unread": "yes"}).status_code == 200


def test_note_texts_and_media_files_stay_out_of_the_console(rows):
    client = staff_client()
    events = client.get(_url(ConversationEvent)).content.decode()
    assert "Secret note" not in events
    with platform_context("test"):
        note = ConversationEvent.all_tenants.filter(kind="note").first()
    assert "Secret note" not in client.get(_url(ConversationEvent, "change", note.pk)).content.decode()
    media = rows["alpha"]["media"]
    for url in (_url(MediaFile), _url(MediaFile, "change", media.pk)):
        page = client.get(url).content.decode()
        assert re.search(r'href="[^"]*passport', page) is None  # no link to the file anywhere


def test_staff_rename_a_team_and_add_a_member_through_the_services(alpha, rows):
    team = rows["alpha"]["team"]
    client = staff_client()
    page = client.get(_url(Team, "change", team.pk))
    data = change_form_data(page)
    prefix = inline_prefix(page, TeamMember)
    data["name"] = "Escalations"
    data[f"{prefix}-TOTAL_FORMS"] = str(int(data[f"{prefix}-TOTAL_FORMS"]) + 1)
    data[f"{prefix}-1-user"] = str(alpha.admin.user_id)
    data[f"{prefix}-1-team"] = str(team.pk)
    response = client.post(_url(Team, "change", team.pk), data)
    assert response.status_code == 302, messages_of(response)
    with tenant_context(alpha.tenant):
        team.refresh_from_db()
        assert team.name == "Escalations"
        assert set(TeamMember.objects.filter(team=team).values_list("user_id", flat=True)) == {
            alpha.agent.user_id,
            alpha.admin.user_id,
        }
        rename = AuditEvent.objects.get(action="inbox.team.rename")
        added = AuditEvent.objects.filter(action="inbox.team.member_add").order_by("pk").last()
    assert rename.actor.is_superuser and added.metadata == {"user_id": alpha.admin.user_id}


def test_a_duplicate_shortcut_from_the_console_is_refused_and_nothing_changes(alpha, rows):
    with tenant_context(alpha.tenant):
        other = settings_services.quick_reply_create(shortcut="refund", title="Refunds", body="x", actor=None)
    client = staff_client()
    page = client.get(_url(QuickReply, "change", other.pk))
    data = {**change_form_data(page), "shortcut": "hours"}
    response = client.post(_url(QuickReply, "change", other.pk), data)
    assert "/hours is already the shortcut of another quick reply." in " ".join(messages_of(response))
    with tenant_context(alpha.tenant):
        other.refresh_from_db()
    assert other.shortcut == "refund"


def test_staff_set_an_agent_available_audited(alpha, rows):
    with tenant_context(alpha.tenant):
        status = AgentStatus.objects.get(user=alpha.agent.user)
    client = staff_client()
    data = {**change_form_data(client.get(_url(AgentStatus, "change", status.pk))), "available": "on"}
    assert client.post(_url(AgentStatus, "change", status.pk), data).status_code == 302
    with tenant_context(alpha.tenant):
        assert teamwork.is_available(alpha.agent.user)
        audit = AuditEvent.objects.filter(action="inbox.availability.set").order_by("pk").last()
    assert audit.actor.is_superuser and audit.metadata["available"] is True


def test_staff_delete_a_label_through_the_service(alpha, rows):
    label = rows["alpha"]["label"]
    response = staff_client().post(_url(Label, "delete", label.pk), {"post": "yes"})
    assert response.status_code == 302
    with tenant_context(alpha.tenant):
        assert not Label.objects.filter(pk=label.pk).exists()
        assert AuditEvent.objects.filter(action="inbox.label.delete").exists()


@pytest.mark.parametrize("model", (ConversationEvent, Mention, MediaFile), ids=lambda model: model.__name__)
def test_activity_mentions_and_media_are_read_only(model):
    from django.contrib import admin

    model_admin = admin.site._registry[model]
    assert not model_admin.has_add_permission(None)
    assert not model_admin.has_change_permission(None)
    assert not model_admin.has_delete_permission(None)


def test_nothing_is_added_from_the_console():
    from django.contrib import admin

    for model in (Conversation, Team, Label, QuickReply, InboxSettings, AgentStatus):
        assert not admin.site._registry[model].has_add_permission(None), model.__name__
