"""The AI auto-reply end to end against the simulator: a customer's message through a signed
webhook, the `ai` job, the guardrails in their order (each stop recorded with its rule), the reply
through the one dispatcher, and the human takeover that silences it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from aerostic.core import metrics
from aerostic.core.tenant_context import tenant_context
from compliance.consent import consent_record
from contacts.models import ConsentState
from inbox.ai import takeover
from inbox.ai.autoreply import message_answer
from inbox.ai.models import AIReply
from inbox.models import Conversation, ConversationEvent, Mention, Message
from inbox.replies import reply_send
from inbox.settings_services import team_create
from inbox.tests.ai_support import (
    KNOWN_QUESTION,
    OTHER_KNOWN_QUESTION,
    ai_on,
    customer_says,
    run_ai,
    run_sends,
)
from tenants.models import WorkspaceFlag
from whatsapp.models import OutboundMessage

pytestmark = pytest.mark.django_db

Kind = ConversationEvent.Kind


def _decisions(workspace) -> list[AIReply]:
    with tenant_context(workspace.tenant):
        return list(AIReply.objects.order_by("pk"))


def _ai_sends(workspace) -> list[OutboundMessage]:
    with tenant_context(workspace.tenant):
        return list(OutboundMessage.objects.filter(origin="ai").order_by("pk"))


def _conversation(workspace) -> Conversation:
    with tenant_context(workspace.tenant):
        return Conversation.objects.select_related("contact", "tenant", "phone_number").get()


def _texts_to_customer(simulator) -> list[str]:
    return [m["text"] for m in simulator.state.messages if m.get("type") == "text"]


def test_a_known_question_is_answered_through_the_dispatcher_and_labelled(alpha, phone, simulator):
    ai_on(alpha, phone)
    wamid = customer_says(phone, KNOWN_QUESTION)
    assert run_ai() == 1
    [decision] = _decisions(alpha)
    assert (decision.wamid, decision.outcome, decision.rule) == (wamid, "answered", "")
    assert decision.confidence >= 0.7 and decision.source_question == "How can I track my order?"
    assert decision.provider == "knowledge_base" and decision.prompt_tokens == 0
    [sent] = _ai_sends(alpha)
    assert sent.category == "SERVICE" and sent.content["text"]["body"].startswith("Track it at")
    assert run_sends(alpha, phone)["sent"] == 1
    assert _texts_to_customer(simulator)[-1].startswith("Track it at")
    with tenant_context(alpha.tenant):
        event = ConversationEvent.objects.get(kind=Kind.AI_REPLIED)
        assert event.data["source_question"] == "How can I track my order?"
        assert event.data["outbound_id"] == sent.pk
        assert Message.objects.filter(direction="out", wamid=sent.__class__.objects.get(pk=sent.pk).wamid).exists()


def test_each_message_is_decided_once_even_when_the_job_runs_twice(alpha, phone):
    ai_on(alpha, phone)
    wamid = customer_says(phone, KNOWN_QUESTION)
    conversation = _conversation(alpha)
    with tenant_context(alpha.tenant):
        message = Message.objects.get(wamid=wamid)
        assert message_answer(conversation, message) is not None
        assert message_answer(conversation, message) is None
    run_ai()  # the enqueued job finds the message decided
    assert len(_decisions(alpha)) == 1 and len(_ai_sends(alpha)) == 1


def test_no_job_for_a_workspace_or_number_without_the_ai(alpha, phone):
    customer_says(phone, KNOWN_QUESTION)
    assert run_ai() == 0
    settings = ai_on(alpha, phone)
    with tenant_context(alpha.tenant):
        from inbox.ai.services import ai_numbers_set

        ai_numbers_set(phone_number_ids=[], actor=alpha.admin.user)
    customer_says(phone, KNOWN_QUESTION)
    assert run_ai() == 0 and settings.enabled
    assert not _decisions(alpha)


def test_the_flag_off_keeps_the_ai_silent(alpha, phone):
    ai_on(alpha, phone)
    WorkspaceFlag.objects.filter(name="ai_replies").update(everyone=False)
    WorkspaceFlag.get("ai_replies")  # waffle's cache
    from django.core.cache import cache

    cache.clear()
    customer_says(phone, KNOWN_QUESTION)
    run_ai()
    [decision] = _decisions(alpha)
    assert (decision.outcome, decision.rule) == ("silent", "disabled")
    assert not _ai_sends(alpha)
    with tenant_context(alpha.tenant):
        assert not ConversationEvent.objects.filter(kind=Kind.AI_HANDOVER).exists()


def test_a_taken_over_conversation_gets_no_ai_reply_until_released(alpha, phone):
    ai_on(alpha, phone)
    customer_says(phone, KNOWN_QUESTION)
    run_ai()
    conversation = _conversation(alpha)
    with tenant_context(alpha.tenant):
        assert takeover.conversation_takeover(conversation, actor=alpha.agent.user)
    customer_says(phone, OTHER_KNOWN_QUESTION)
    run_ai()
    assert [(d.outcome, d.rule) for d in _decisions(alpha)] == [("answered", ""), ("silent", "taken_over")]
    with tenant_context(alpha.tenant):
        assert takeover.conversation_release(conversation, actor=alpha.agent.user)
    customer_says(phone, OTHER_KNOWN_QUESTION)
    run_ai()
    assert _decisions(alpha)[-1].outcome == "answered"
    with tenant_context(alpha.tenant):
        kinds = list(ConversationEvent.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds.count(Kind.TAKEN_OVER) == 1 and kinds.count(Kind.RELEASED) == 1


def test_resolving_hands_the_conversation_back_to_the_ai(alpha, phone):
    from inbox.teamwork import conversation_status

    ai_on(alpha, phone)
    customer_says(phone, KNOWN_QUESTION)
    conversation = _conversation(alpha)
    with tenant_context(alpha.tenant):
        takeover.conversation_takeover(conversation, actor=alpha.agent.user)
        conversation_status(conversation, status="resolved", actor=alpha.agent.user)
        conversation.refresh_from_db()
        assert conversation.ai_paused_at is None
        assert ConversationEvent.objects.filter(kind=Kind.RELEASED, data__reason="resolved").exists()


def test_an_agents_reply_takes_over_and_cancels_the_queued_ai_reply(alpha, phone, simulator):
    """The race: the AI's reply is queued, an agent replies before the send path claims it."""
    ai_on(alpha, phone)
    customer_says(phone, KNOWN_QUESTION)
    run_ai()
    [queued] = _ai_sends(alpha)
    conversation = _conversation(alpha)
    with tenant_context(alpha.tenant):
        reply_send(conversation, actor=alpha.agent.user, text="Hi, Ana here: let me check.")
        conversation.refresh_from_db()
        assert conversation.ai_paused_at is not None and conversation.ai_paused_by == alpha.agent.user
    run_sends(alpha, phone)
    [queued] = _ai_sends(alpha)
    assert queued.state == "skipped" and "took over" in queued.error_detail
    assert _texts_to_customer(simulator) == ["Hi, Ana here: let me check."]


def test_the_send_path_checks_the_takeover_when_it_claims(alpha, phone, simulator):
    """A takeover that reached the conversation without cancelling the queued reply (a takeover
    committed between the AI's decision and the claim) still stops it at the claim."""
    ai_on(alpha, phone)
    customer_says(phone, KNOWN_QUESTION)
    run_ai()
    with tenant_context(alpha.tenant):
        Conversation.objects.update(ai_paused_at=timezone.now())
    run_sends(alpha, phone)
    [queued] = _ai_sends(alpha)
    assert queued.state == "skipped" and queued.error_detail.startswith("An agent took over")
    assert _texts_to_customer(simulator) == []


def test_an_ai_reply_already_sent_refuses_the_agents_reply_once(alpha, phone, simulator):
    """The other side of the race: the send path took the AI's reply first. The agent's reply is
    refused once (never both answers to one question unseen); sending again goes."""
    ai_on(alpha, phone)
    customer_says(phone, KNOWN_QUESTION)
    run_ai()
    run_sends(alpha, phone)
    conversation = _conversation(alpha)
    with tenant_context(alpha.tenant):
        with pytest.raises(takeover.AIJustAnswered, match="answered the customer's last message"):
            reply_send(conversation, actor=alpha.agent.user, text="Let me check")
        conversation.refresh_from_db()
        assert conversation.ai_paused_at is not None
        again = reply_send(conversation, actor=alpha.agent.user, text="Let me check")
        assert (again.origin, again.state) == ("inbox", "queued")  # goes once Meta's 6-second pair limit allows
        assert OutboundMessage.objects.filter(origin="inbox").count() == 1
    assert len(_texts_to_customer(simulator)) == 1 and _texts_to_customer(simulator)[0].startswith("Track it at")


def test_a_blocked_intent_is_handed_over_to_the_teams_next_agent_and_they_are_told(alpha, phone):
    with tenant_context(alpha.tenant):
        team = team_create(name="Care", member_ids=[alpha.agent.user.pk], actor=alpha.admin.user)
    ai_on(alpha, phone, handover_team_id=team.pk)
    customer_says(phone, "I want a refund for my order KT12345")
    run_ai()
    [decision] = _decisions(alpha)
    assert (decision.outcome, decision.rule) == ("handed_over", "blocked_intent")
    assert "refund" in decision.reason.lower()
    assert not _ai_sends(alpha)
    conversation = _conversation(alpha)
    assert (conversation.assignee_id, conversation.team_id) == (alpha.agent.user.pk, team.pk)
    with tenant_context(alpha.tenant):
        event = ConversationEvent.objects.get(kind=Kind.AI_HANDOVER)
        assert event.data["rule"] == "blocked_intent"
        assert Mention.objects.filter(event=event, user=alpha.agent.user, seen_at=None).exists()


def test_the_workspaces_own_blocked_words_hand_over(alpha, phone):
    ai_on(alpha, phone, blocked_words="wholesale\nbulk order")
    customer_says(phone, "Can I place a BULK order of sarees?")
    run_ai()
    [decision] = _decisions(alpha)
    assert (decision.outcome, decision.rule) == ("handed_over", "blocked_intent")


def test_a_question_the_ai_is_not_sure_of_is_handed_over(alpha, phone):
    ai_on(alpha, phone)
    customer_says(phone, "Which fabric is best for a humid summer wedding?")
    run_ai()
    [decision] = _decisions(alpha)
    assert (decision.outcome, decision.rule) == ("handed_over", "low_confidence")
    assert decision.confidence is not None and decision.confidence < 0.5
    assert "not sure enough" in decision.reason


def test_the_daily_reply_cap_per_conversation(alpha, phone):
    ai_on(alpha, phone, daily_reply_cap=1)
    customer_says(phone, KNOWN_QUESTION)
    run_ai()
    customer_says(phone, OTHER_KNOWN_QUESTION)
    run_ai()
    assert [(d.outcome, d.rule) for d in _decisions(alpha)] == [("answered", ""), ("handed_over", "reply_cap")]
    assert len(_ai_sends(alpha)) == 1


def test_an_opted_out_customer_gets_no_ai_reply(alpha, phone):
    ai_on(alpha, phone)
    customer_says(phone, "hello")  # creates the contact
    run_ai()
    conversation = _conversation(alpha)
    with tenant_context(alpha.tenant):
        consent_record(contact=conversation.contact, kind="opt_out", source="agent", actor=alpha.admin.user)
        assert conversation.contact.__class__.objects.get(pk=conversation.contact_id).consent_state == (
            ConsentState.OPTED_OUT
        )
    customer_says(phone, KNOWN_QUESTION)
    run_ai()
    assert (_decisions(alpha)[-1].outcome, _decisions(alpha)[-1].rule) == ("handed_over", "opted_out")


def test_window_lateness_and_newer_messages(alpha, phone):
    ai_on(alpha, phone)
    first = customer_says(phone, KNOWN_QUESTION)
    second = customer_says(phone, OTHER_KNOWN_QUESTION)
    conversation = _conversation(alpha)
    with tenant_context(alpha.tenant):
        older = Message.objects.get(wamid=first)
        assert message_answer(conversation, older).rule == "superseded"
        newest = Message.objects.get(wamid=second)
        Message.objects.filter(conversation=conversation).update(created_at=timezone.now() - timedelta(minutes=20))
        newest.refresh_from_db()
        Conversation.objects.filter(pk=conversation.pk).update(window_expires_at=timezone.now() + timedelta(hours=23))
        conversation.refresh_from_db()
        assert message_answer(conversation, newest).rule == "too_late"
    third = customer_says(phone, KNOWN_QUESTION)
    with tenant_context(alpha.tenant):
        Conversation.objects.filter(pk=conversation.pk).update(window_expires_at=timezone.now() - timedelta(seconds=1))
        conversation.refresh_from_db()
        assert message_answer(conversation, Message.objects.get(wamid=third)).rule == "window"
    assert not _ai_sends(alpha)


def test_decisions_are_counted_for_metrics(alpha, phone):
    ai_on(alpha, phone)
    customer_says(phone, KNOWN_QUESTION)
    run_ai()
    customer_says(phone, "I need a refund")
    run_ai()
    totals = metrics.shared_counter_totals("aerostic_ai_decisions")
    assert totals[("answered", "")] == 1 and totals[("handed_over", "blocked_intent")] == 1


# --- the chat provider, through the same guardrails


def _chat_on(alpha, phone, fake_openai, **settings):
    return ai_on(
        alpha,
        phone,
        provider="openai_compatible",
        chat_base_url=fake_openai.base_url,
        chat_model="fake-model",
        chat_api_key="sk-workspace",
        **settings,
    )


def test_the_chat_model_answers_grounded_in_the_knowledge_base_and_is_metered_once(alpha, phone, fake_openai):
    from billing.models import LedgerEntry

    _chat_on(alpha, phone, fake_openai)
    with tenant_context(alpha.tenant):
        from inbox.ai.models import KnowledgeAnswer

        tracking = KnowledgeAnswer.objects.get(question="How can I track my order?")
    fake_openai.queue({"reply": "Track it on our site.", "confidence": 0.92, "intent": "", "source": str(tracking.pk)})
    wamid = customer_says(phone, KNOWN_QUESTION)
    run_ai()
    [decision] = _decisions(alpha)
    assert (decision.outcome, decision.provider, decision.model) == ("answered", "openai_compatible", "fake-model")
    assert (decision.prompt_tokens, decision.completion_tokens) == (42, 7)
    assert decision.source_id == tracking.pk
    [request] = fake_openai.completion_requests
    assert request.headers["authorization"] == "Bearer sk-workspace"
    assert "How can I track my order?" in json_dump(request.body)
    with tenant_context(alpha.tenant):
        entries = LedgerEntry.objects.filter(reference=f"ai:ai-reply:{decision.pk}")
        assert entries.count() == 1
        # A second run of the same message meters nothing more.
        assert message_answer(_conversation(alpha), Message.objects.get(wamid=wamid)) is None
        assert LedgerEntry.objects.filter(reference__startswith="ai:").count() == 1


def test_the_chat_models_own_intent_hands_over(alpha, phone, fake_openai):
    _chat_on(alpha, phone, fake_openai)
    fake_openai.queue({"reply": "", "confidence": 0.95, "intent": "legal", "source": ""})
    customer_says(phone, "a question about the design you showed me")
    run_ai()
    [decision] = _decisions(alpha)
    assert (decision.outcome, decision.rule, decision.intent) == ("handed_over", "blocked_intent", "legal")
    assert decision.prompt_tokens == 42  # spent, so metered, though nothing was sent
    assert not _ai_sends(alpha)


def test_a_failing_chat_model_hands_over(alpha, phone, fake_openai):
    from inbox.tests.fake_openai import HttpError

    _chat_on(alpha, phone, fake_openai)
    fake_openai.default = HttpError(401, "bad key")
    customer_says(phone, KNOWN_QUESTION)
    run_ai()
    [decision] = _decisions(alpha)
    assert (decision.outcome, decision.rule) == ("handed_over", "provider_failed")
    assert "sk-workspace" not in decision.reason


def json_dump(value) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def test_deployed_a_chat_model_on_a_private_address_is_refused_and_handed_over(alpha, phone, fake_openai, settings):
    """A workspace's base URL is called by the platform's worker: never to its own network (SSRF)."""
    from inbox.ai.services import ai_settings_update

    _chat_on(alpha, phone, fake_openai)
    settings.IS_DEPLOYED = True
    customer_says(phone, KNOWN_QUESTION)
    run_ai()
    with tenant_context(alpha.tenant):
        ai_settings_update(actor=alpha.admin.user, chat_base_url="https://127.0.0.1:9/v1")
    customer_says(phone, OTHER_KNOWN_QUESTION)
    run_ai()
    reasons = [(d.rule, d.reason) for d in _decisions(alpha)]
    assert reasons[0][0] == "provider_failed" and "must start with https://" in reasons[0][1]
    assert reasons[1][0] == "provider_failed" and "127.0.0.1 is not a public address" in reasons[1][1]
    assert fake_openai.completion_requests == []
