"""The inbox's reads: who sees which conversation, the list's views, filters, search and keyset
pages, the last message of each row, the timeline with sends on their way and the change notices."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aerostic.core.errors import DomainError
from aerostic.core.tenant_context import tenant_context
from inbox import badges, changes, selectors, teamwork
from inbox.inbound import inbound_store_many
from inbox.models import Conversation, ConversationLabel, Label, Team, TeamMember
from inbox.replies import reply_send
from inbox.selectors import Agent, ListFilters
from whatsapp.fanout import InboundItem

pytestmark = pytest.mark.django_db


def _write(phone, sender: str, text: str, *, name: str = "Customer", seconds_ago: int = 0) -> None:
    at = timezone.now() - timedelta(seconds=seconds_ago)
    message = {
        "from": sender,
        "id": f"wamid.{sender}.{seconds_ago}.{text[:8]}",
        "timestamp": str(int(at.timestamp())),
        "type": "text",
        "text": {"body": text},
    }
    inbound_store_many(phone=phone, items=[InboundItem(message, name)])


def _ids(page) -> list[str]:
    return [conversation.customer_name for conversation in page.conversations]


@pytest.fixture
def inbox(alpha, phone):
    """Five customers who wrote one after another (Eve last)."""
    with tenant_context(alpha.tenant):
        for position, name in enumerate(["Ann", "Bob", "Cid", "Dee", "Eve"]):
            _write(
                phone,
                f"9198000000{position:02d}",
                f"order question from {name.lower()}",
                name=name,
                seconds_ago=100 - position * 10,
            )
    return alpha


def test_pages_follow_last_activity_by_keyset(inbox):
    with tenant_context(inbox.tenant):
        agent = Agent.of(inbox.admin)
        first = selectors.conversation_page(agent, ListFilters(), limit=2)
        second = selectors.conversation_page(agent, ListFilters(), cursor=first.next_cursor, limit=2)
        with CaptureQueriesContext(connection) as queries:
            third = selectors.conversation_page(agent, ListFilters(), cursor=second.next_cursor, limit=2)
    assert (_ids(first), _ids(second), _ids(third)) == (["Eve", "Dee"], ["Cid", "Bob"], ["Ann"])
    assert third.next_cursor is None
    assert not any("OFFSET" in query["sql"].upper() for query in queries.captured_queries)
    assert first.previews[first.conversations[0].pk].body == "order question from eve"


def test_the_query_count_does_not_grow_with_the_page(inbox):
    with tenant_context(inbox.tenant):
        agent = Agent.of(inbox.admin)
        label = Label.objects.create(name="VIP")
        for conversation in Conversation.objects.all():
            ConversationLabel.objects.create(conversation=conversation, label=label)
        counts = []
        for limit in (1, 5):
            with CaptureQueriesContext(connection) as queries:
                page = selectors.conversation_page(agent, ListFilters(), limit=limit)
            counts.append(len(queries))
            assert all(page.labels[c.pk] == [label] for c in page.conversations)
    assert counts[0] == counts[1]


def test_a_bad_cursor_view_or_state_is_refused(inbox):
    with tenant_context(inbox.tenant):
        agent = Agent.of(inbox.admin)
        for filters, cursor in (
            (ListFilters(), "not-a-cursor"),
            (ListFilters(view="everyone"), ""),
            (ListFilters(state="closed"), ""),
        ):
            with pytest.raises(DomainError):
                selectors.conversation_page(agent, filters, cursor=cursor)


def test_agents_see_their_own_their_teams_and_unassigned_conversations(inbox):
    with tenant_context(inbox.tenant):
        admin = Agent.of(inbox.admin)
        by_name = {c.customer_name: c for c in Conversation.objects.all()}
        teamwork.conversation_assign(by_name["Ann"], assignee_id=inbox.admin.user_id, actor=inbox.admin.user)
        teamwork.conversation_assign(by_name["Bob"], assignee_id=inbox.agent.user_id, actor=inbox.admin.user)
        team = Team.objects.create(name="Support")
        TeamMember.objects.create(team=team, user=inbox.agent.user)
        teamwork.conversation_assign(by_name["Cid"], assignee_id=inbox.admin.user_id, actor=inbox.admin.user)
        teamwork.conversation_team(by_name["Cid"], team_id=team.pk, actor=inbox.admin.user)
        agent = Agent.of(inbox.agent)
        assert set(_ids(selectors.conversation_page(agent, ListFilters(view="all")))) == {"Bob", "Cid", "Dee", "Eve"}
        assert _ids(selectors.conversation_page(agent, ListFilters(view="mine"))) == ["Bob"]
        assert _ids(selectors.conversation_page(agent, ListFilters(view="team"))) == ["Cid"]
        assert _ids(selectors.conversation_page(agent, ListFilters(view="unassigned"))) == ["Eve", "Dee"]
        assert len(selectors.conversation_page(admin, ListFilters(view="all")).conversations) == 5
        with pytest.raises(Conversation.DoesNotExist):
            selectors.conversation_get(agent, by_name["Ann"].pk)
        assert badges.unread_counts(agent) == {"mine": 1, "unassigned": 2, "team": 1, "all": 4}


def test_unread_counts_and_the_badge_stop_at_the_cap(inbox, monkeypatch):
    """Above the cap the count stops (the page shows 99+): a workspace with a huge backlog costs
    the navigation no more than one with a hundred."""

    monkeypatch.setattr(badges, "COUNT_CAP", 3)
    with tenant_context(inbox.tenant):
        admin = Agent.of(inbox.admin)
        assert badges.unread_counts(admin) == {"mine": 0, "unassigned": 3, "team": 0, "all": 3}
        assert badges.attention_count(user_id=inbox.admin.user_id, role=inbox.admin.role) == 3


def test_another_workspace_sees_none_of_it(inbox, bravo):
    with tenant_context(inbox.tenant):
        some = Conversation.objects.first()
    with tenant_context(bravo.tenant):
        assert selectors.conversation_page(Agent.of(bravo.admin), ListFilters(state="any")).conversations == []
        with pytest.raises(Conversation.DoesNotExist):
            selectors.conversation_get(Agent.of(bravo.admin), some.pk)


def test_filters_by_state_label_unread_and_window(inbox):
    with tenant_context(inbox.tenant):
        agent = Agent.of(inbox.admin)
        by_name = {c.customer_name: c for c in Conversation.objects.all()}
        teamwork.conversation_status(by_name["Ann"], status="resolved", actor=inbox.admin.user)
        label = Label.objects.create(name="Refund")
        teamwork.conversation_label(by_name["Bob"], label_id=label.pk, actor=inbox.admin.user)
        teamwork.conversation_opened(by_name["Cid"], user=inbox.admin.user)
        Conversation.objects.filter(pk=by_name["Dee"].pk).update(window_expires_at=timezone.now())

        def names(**kwargs) -> set[str]:
            return set(_ids(selectors.conversation_page(agent, ListFilters(**kwargs))))

        assert names(state="resolved") == {"Ann"}
        assert names(label_id=label.pk) == {"Bob"}
        assert names(unread=True) == {"Bob", "Dee", "Eve"}
        assert names(window_open=True) == {"Bob", "Cid", "Eve"}


def test_search_by_name_prefix_message_words_and_full_number(inbox):
    with tenant_context(inbox.tenant):
        agent = Agent.of(inbox.admin)

        def found(query: str) -> list[str]:
            return _ids(selectors.conversation_page(agent, ListFilters(query=query)))

        assert found("ev") == ["Eve"]
        assert found("question bob") == ["Bob"]
        assert found("+91 98000 00003") == ["Dee"]
        assert found("919800000003") == ["Dee"]
        assert found("refund") == []
        assert found("!!") == []


def test_the_timeline_shows_a_reply_at_once_as_queued_and_the_activity(inbox):
    with tenant_context(inbox.tenant):
        conversation = Conversation.objects.get(customer_name="Eve")
        reply_send(conversation, actor=inbox.agent.user, text="We are on it")
        entries = selectors.timeline(conversation)
        assert [entry.kind for entry in entries] == ["message", "outbound", "event"]
        assert entries[1].item.state == "queued" and entries[1].item.content["text"]["body"] == "We are on it"
        assert entries[2].item.kind == "assigned"  # the reply assigned the unassigned conversation
        assert selectors.in_flight(conversation)


def test_changes_bump_the_workspace_and_the_conversation_after_commit(inbox, phone, django_capture_on_commit_callbacks):
    with tenant_context(inbox.tenant):
        conversation = Conversation.objects.get(customer_name="Eve")
        before = changes.versions(inbox.tenant.pk, conversation.pk)
        with django_capture_on_commit_callbacks(execute=True):
            _write(phone, "919800000004", "one more thing", name="Eve")
        after = changes.versions(inbox.tenant.pk, conversation.pk)
        other = changes.versions(inbox.tenant.pk, Conversation.objects.get(customer_name="Ann").pk)
    assert after.workspace > before.workspace and after.conversation == (before.conversation or 0) + 1
    assert other.conversation == 0 and after.token != before.token


def test_typing_notices_name_the_other_agents(alpha):
    changes.typing_note(alpha.tenant.pk, 7, alpha.agent.user_id, "Ana")
    changes.typing_note(alpha.tenant.pk, 7, alpha.admin.user_id, "Ben")
    assert changes.typists(alpha.tenant.pk, 7, except_user=alpha.admin.user_id) == ["Ana"]
    assert changes.typists(alpha.tenant.pk, 8, except_user=alpha.admin.user_id) == []
