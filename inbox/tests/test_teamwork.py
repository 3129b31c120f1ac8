"""Team work on conversations: assignment (by hand and round-robin), states, labels, notes with
mentions, opening a conversation; and what a customer's message does to it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from accounts.tests.factories import UserFactory
from aerostic.core.errors import DomainError
from aerostic.core.tenant_context import platform_context, tenant_context
from inbox import teamwork
from inbox.inbound import inbound_store_many
from inbox.models import AgentStatus, Conversation, ConversationEvent, Label, Mention, Team, TeamMember
from inbox.tests.factories import ConversationFactory
from tenants.tests.factories import MembershipFactory
from whatsapp.fanout import InboundItem

pytestmark = pytest.mark.django_db

Kind = ConversationEvent.Kind


def _agent(alpha, email: str, *, full_name: str = "", role: str = Role.AGENT):
    return MembershipFactory(tenant=alpha.tenant, role=role, user=UserFactory(email=email, full_name=full_name)).user


def _kinds(conversation) -> list[str]:
    return list(
        ConversationEvent.objects.filter(conversation=conversation).order_by("pk").values_list("kind", flat=True)
    )


def test_assigning_writes_one_event_per_change_with_its_actor(alpha):
    with tenant_context(alpha.tenant):
        conversation = ConversationFactory(phone_number__account__tenant=alpha.tenant)
        teamwork.conversation_assign(conversation, assignee_id=alpha.agent.user_id, actor=alpha.admin.user)
        teamwork.conversation_assign(conversation, assignee_id=alpha.agent.user_id, actor=alpha.admin.user)
        teamwork.conversation_assign(conversation, assignee_id=None, actor=alpha.admin.user)
        events = list(ConversationEvent.objects.filter(conversation=conversation).order_by("pk"))
    assert [event.kind for event in events] == [Kind.ASSIGNED, Kind.UNASSIGNED]
    assert events[0].actor == alpha.admin.user and events[0].data["assignee_id"] == alpha.agent.user_id


def test_only_members_who_may_reply_can_be_assigned(alpha, bravo):
    with tenant_context(alpha.tenant):
        conversation = ConversationFactory(phone_number__account__tenant=alpha.tenant)
        for user_id in (alpha.viewer.user_id, bravo.agent.user_id):
            with pytest.raises(DomainError, match="not an agent"):
                teamwork.conversation_assign(conversation, assignee_id=user_id, actor=alpha.admin.user)
        assert Conversation.objects.get(pk=conversation.pk).assignee_id is None


def test_round_robin_walks_the_available_members_in_turn(alpha):
    with tenant_context(alpha.tenant):
        second = _agent(alpha, "second@alpha.test")
        away = _agent(alpha, "away@alpha.test")
        team = Team.objects.create(name="Support")
        for user in (alpha.agent.user, second, away, alpha.viewer.user):  # a viewer may not reply
            TeamMember.objects.create(team=team, user=user)
        teamwork.availability_set(away, available=False)
        picks = [teamwork.round_robin_next(team).pk for _ in range(4)]
        assert picks == [alpha.agent.user_id, second.pk, alpha.agent.user_id, second.pk]
        teamwork.availability_set(alpha.agent.user, available=False)
        teamwork.availability_set(second, available=False)
        assert AgentStatus.objects.filter(available=False).count() == 3
        assert teamwork.round_robin_next(team) is None


def test_moving_to_a_team_with_round_robin_assigns_an_agent(alpha):
    with tenant_context(alpha.tenant):
        team = Team.objects.create(name="Sales")
        TeamMember.objects.create(team=team, user=alpha.agent.user)
        conversation = ConversationFactory(phone_number__account__tenant=alpha.tenant)
        teamwork.conversation_team(conversation, team_id=team.pk, actor=alpha.admin.user, round_robin=True)
        conversation.refresh_from_db()
        assert (conversation.team_id, conversation.assignee_id) == (team.pk, alpha.agent.user_id)
        assert _kinds(conversation) == [Kind.TEAM, Kind.ASSIGNED]


def test_states_and_snooze_rules(alpha):
    with tenant_context(alpha.tenant):
        conversation = ConversationFactory(phone_number__account__tenant=alpha.tenant)
        with pytest.raises(DomainError, match="future"):
            teamwork.conversation_status(
                conversation, status="snoozed", actor=alpha.agent.user, snoozed_until=timezone.now()
            )
        with pytest.raises(DomainError, match="Unknown"):
            teamwork.conversation_status(conversation, status="closed", actor=alpha.agent.user)
        until = timezone.now() + timedelta(hours=1)
        teamwork.conversation_status(conversation, status="snoozed", actor=alpha.agent.user, snoozed_until=until)
        teamwork.conversation_status(conversation, status="resolved", actor=alpha.agent.user)
        conversation.refresh_from_db()
        assert (conversation.status, conversation.snoozed_until) == ("resolved", None)
        assert _kinds(conversation) == [Kind.SNOOZED, Kind.RESOLVED]


def test_snoozed_conversations_wake_when_their_time_comes(alpha):
    with tenant_context(alpha.tenant):
        due = ConversationFactory(
            phone_number__account__tenant=alpha.tenant,
            status="snoozed",
            snoozed_until=timezone.now() - timedelta(minutes=1),
        )
        later = ConversationFactory(
            phone_number=due.phone_number,
            status="snoozed",
            snoozed_until=timezone.now() + timedelta(hours=1),
        )
    with platform_context("test: the periodic job"):
        assert teamwork.snoozed_wake() == 1
    with tenant_context(alpha.tenant):
        assert Conversation.objects.get(pk=due.pk).status == "open"
        assert Conversation.objects.get(pk=later.pk).status == "snoozed"
        assert _kinds(due) == [Kind.REOPENED]


def test_labels_are_added_once_and_removed(alpha, bravo):
    with tenant_context(bravo.tenant):
        foreign = Label.objects.create(name="VIP")
    with tenant_context(alpha.tenant):
        conversation = ConversationFactory(phone_number__account__tenant=alpha.tenant)
        label = Label.objects.create(name="VIP")
        for _ in range(2):
            teamwork.conversation_label(conversation, label_id=label.pk, actor=alpha.agent.user)
        teamwork.conversation_label(conversation, label_id=label.pk, actor=alpha.agent.user, add=False)
        with pytest.raises(DomainError, match="no such label"):
            teamwork.conversation_label(conversation, label_id=foreign.pk, actor=alpha.agent.user)
        assert _kinds(conversation) == [Kind.LABELLED, Kind.UNLABELLED]


def test_a_note_mentions_teammates_by_first_name_or_email(alpha):
    with tenant_context(alpha.tenant):
        ana = _agent(alpha, "ana.silva@alpha.test", full_name="Ana Silva")
        ben = _agent(alpha, "ben@alpha.test", full_name="Benjamin Ode")
        conversation = ConversationFactory(phone_number__account__tenant=alpha.tenant)
        with pytest.raises(DomainError):
            teamwork.note_add(conversation, body="   ", actor=ben)
        event = teamwork.note_add(
            conversation, body="@ana can you call? cc @ben, @nobody and @ana.silva", actor=alpha.agent.user
        )
        assert {m.user_id for m in Mention.objects.filter(event=event)} == {ana.pk, ben.pk}
        assert teamwork.unseen_mentions(ana) == 1
        teamwork.conversation_opened(conversation, user=ana)
        assert teamwork.unseen_mentions(ana) == 0 and teamwork.unseen_mentions(ben) == 1


def _inbound(phone, sender: str, wamid: str, text: str = "hello") -> InboundItem:
    message = {
        "from": sender,
        "id": wamid,
        "timestamp": str(int(timezone.now().timestamp())),
        "type": "text",
        "text": {"body": text},
    }
    return InboundItem(message, "Customer")


def test_a_customer_message_reopens_counts_unread_and_opening_clears_it(alpha, phone):
    with tenant_context(alpha.tenant):
        inbound_store_many(phone=phone, items=[_inbound(phone, "919800000001", "wamid.A1")])
        conversation = Conversation.objects.get()
        teamwork.conversation_status(conversation, status="resolved", actor=alpha.agent.user)
        inbound_store_many(
            phone=phone,
            items=[_inbound(phone, "919800000001", "wamid.A2"), _inbound(phone, "919800000001", "wamid.A3")],
        )
        conversation.refresh_from_db()
        assert (conversation.status, conversation.unread_count) == ("open", 3)
        assert _kinds(conversation) == [Kind.RESOLVED, Kind.REOPENED]
        assert ConversationEvent.objects.get(kind=Kind.REOPENED).data == {"reason": "customer_wrote"}
        inbound_store_many(phone=phone, items=[_inbound(phone, "919800000001", "wamid.A3")])  # a re-delivery
        conversation.refresh_from_db()
        assert conversation.unread_count == 3
        teamwork.conversation_opened(conversation, user=alpha.agent.user)
        conversation.refresh_from_db()
        assert conversation.unread_count == 0


def test_a_customer_message_wakes_a_snoozed_conversation(alpha, phone):
    with tenant_context(alpha.tenant):
        inbound_store_many(phone=phone, items=[_inbound(phone, "919800000002", "wamid.B1")])
        conversation = Conversation.objects.get()
        teamwork.conversation_status(
            conversation, status="snoozed", actor=alpha.agent.user, snoozed_until=timezone.now() + timedelta(days=1)
        )
        inbound_store_many(phone=phone, items=[_inbound(phone, "919800000002", "wamid.B2")])
        conversation.refresh_from_db()
        assert (conversation.status, conversation.snoozed_until) == ("open", None)
