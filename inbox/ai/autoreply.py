"""What the AI does with a customer's message: the guardrails in the order the product promises,
each stop recorded with its rule and reason (`AIReply`), and a reply through the one dispatcher
(Origin `ai`) only when every rule passes.

1. the AI is on for the workspace and the number (silent otherwise);
2. no person has taken the conversation over (silent);
3. the 24-hour window is open and the message is the customer's latest, answered within minutes
   (free-form only: the AI never sends a template, and an answer long after the question would be
   a proactive message, which quiet hours are for);
4. the customer has not opted out (the AI does not write to someone who said stop);
5. no blocked intent: the workspace's words and the built-in cues before any provider is asked,
   then the provider's own intent;
6. confidence at or above the workspace's threshold;
7. at most `daily_reply_cap` AI replies in the conversation in the workspace's day.
A stop after rule 2 leaves a hand-over note in the timeline and assigns the conversation (the
workspace's hand-over team, round robin) when nobody has it. Tokens a provider spent are metered
once per decision (inbox.ai.usage), whatever the outcome.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from aerostic.core import metrics
from contacts.models import ConsentState
from inbox.ai import providers, usage
from inbox.ai.intents import blocked_intent, intent_label
from inbox.ai.models import AIReply, AISettings, KnowledgeAnswer
from inbox.ai.selectors import ai_active_on, knowledge_pairs, replies_today
from inbox.ai.types import Answer, Context, ProviderError, Turn
from inbox.events import event_add
from inbox.models import Conversation, ConversationEvent, Mention, Message
from inbox.panel_rules import workspace_zone
from inbox.replies import window_open
from inbox.teamwork import conversation_team
from whatsapp import dispatch
from whatsapp.models import OutboundMessage

logger = logging.getLogger(__name__)

Outcome = AIReply.Outcome
ANSWER_WITHIN = timedelta(minutes=10)
HISTORY_TURNS = 6

# Rule names (stored) and what the timeline says.
REASONS = {
    "disabled": "The AI is off for this workspace or number.",
    "taken_over": "A person has taken this conversation over.",
    "superseded": "The customer wrote again; the AI looks at the newest message.",
    "not_text": "The AI reads text messages only.",
    "window": "The customer's 24-hour window is closed, and the AI never sends templates.",
    "too_late": "The message waited too long: an answer now would be a proactive message.",
    "opted_out": "The customer opted out, so the AI does not write to them.",
    "blocked_intent": "The customer asked about {intent}, which a person answers.",
    "provider_failed": "The AI could not answer ({detail}).",
    "low_confidence": "The AI was not sure enough ({confidence:.0%}, below the {threshold:.0%} threshold).",
    "reply_cap": "The AI already answered {cap} times in this conversation today.",
}
SILENT_RULES = frozenset({"disabled", "taken_over", "superseded"})


@dataclass
class Verdict:
    """A decision about one question: `rule` empty when the answer may go."""

    rule: str = ""
    reason: str = ""
    answer: Answer | None = None
    intent: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.rule


def _stop(rule: str, answer: Answer | None = None, intent: str = "", **values: Any) -> Verdict:
    return Verdict(rule=rule, reason=REASONS[rule].format(intent=intent, **values)[:255], answer=answer, intent=intent)


def judge_question(
    settings: AISettings, *, tenant_id: int, question: str, language: str = "", history: tuple[Turn, ...] = ()
) -> Verdict:
    """Rules 5 and 6 (what the question and the answer decide): used for every message and by the
    settings page's test box."""
    intent = blocked_intent(question, extra=settings_blocked_words(settings))
    if intent:
        verdict = _stop("blocked_intent", intent=intent_label(intent))
        verdict.intent = intent
        return verdict
    context = Context(
        question=question,
        knowledge=knowledge_pairs(tenant_id, settings.knowledge_version),
        language=language,
        history=history,
        tenant_id=tenant_id,
        knowledge_version=settings.knowledge_version,
    )
    try:
        answer = providers.provider_answer(settings, context)
    except ProviderError as error:
        return _stop("provider_failed", detail=str(error)[:150])
    if answer.intent:
        verdict = _stop("blocked_intent", answer=answer, intent=intent_label(answer.intent))
        verdict.intent = answer.intent
        return verdict
    if not answer.reply or answer.confidence < settings.threshold:
        return _stop("low_confidence", answer=answer, confidence=answer.confidence, threshold=settings.threshold)
    return Verdict(answer=answer)


def settings_blocked_words(settings: AISettings) -> list[str]:
    return [line.strip() for line in settings.blocked_words.splitlines() if line.strip()]


def _claim(conversation: Conversation, wamid: str) -> AIReply | None:
    """The message's one decision row; None when another run already has it."""
    reply, created = AIReply.objects.get_or_create(
        wamid=wamid, defaults={"conversation": conversation, "tenant_id": conversation.tenant_id}
    )
    return reply if created else None


def _workspace_day_start(conversation: Conversation) -> datetime:
    local = timezone.now().astimezone(workspace_zone(conversation.tenant.timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _history(conversation: Conversation, before: Message) -> tuple[Turn, ...]:
    rows = (
        Message.objects.filter(conversation=conversation, created_at__lt=before.created_at, type="text")
        .exclude(body="")
        .order_by("-created_at", "-id")
        .values_list("direction", "body")[:HISTORY_TURNS]
    )
    return tuple(
        Turn(role="customer" if direction == Message.Direction.INBOUND else "business", text=body)
        for direction, body in reversed(list(rows))
    )


def _conversation_rules(conversation: Conversation, message: Message, settings: AISettings | None) -> Verdict:
    """Rules 1 to 4."""
    if settings is None:
        return _stop("disabled")
    if conversation.ai_paused_at is not None:
        return _stop("taken_over")
    # Meta's timestamps are whole seconds: within one, the later row is the newer message.
    newer = (
        Message.objects.filter(conversation=conversation, direction=Message.Direction.INBOUND)
        .filter(Q(created_at__gt=message.created_at) | Q(created_at=message.created_at, pk__gt=message.pk))
        .exists()
    )
    if newer:
        return _stop("superseded")
    if message.type != "text" or not message.body.strip():
        return _stop("not_text")
    if not window_open(conversation):
        return _stop("window")
    if timezone.now() - message.created_at > ANSWER_WITHIN:
        return _stop("too_late")
    contact = conversation.contact if conversation.contact_id is not None else None
    if contact is not None and contact.consent_state == ConsentState.OPTED_OUT:
        return _stop("opted_out")
    return Verdict()


def message_answer(conversation: Conversation, message: Message) -> AIReply | None:
    """Decides about one customer message and acts on it (inside its tenant's context). None when
    another run already decided about it."""
    decision = _claim(conversation, message.wamid)
    if decision is None:
        return None
    settings = ai_active_on(conversation.tenant_id, conversation.phone_number_id)
    verdict = _conversation_rules(conversation, message, settings)
    if verdict.passed:
        assert settings is not None  # rule 1 passed
        verdict = judge_question(
            settings,
            tenant_id=conversation.tenant_id,
            question=message.body,
            history=_history(conversation, message),
        )
        if verdict.passed and replies_today(conversation.pk, _workspace_day_start(conversation)) >= (
            settings.daily_reply_cap
        ):
            verdict = _stop("reply_cap", answer=verdict.answer, cap=settings.daily_reply_cap)
    with transaction.atomic():
        _record(decision, verdict)
        usage.usage_record(decision)
        if verdict.passed:
            _reply(conversation, decision, verdict)
        elif verdict.rule not in SILENT_RULES:
            assert settings is not None or verdict.rule == "disabled"
            _hand_over(conversation, decision, settings)
        outcome, rule = decision.outcome, decision.rule
        transaction.on_commit(lambda: metrics.count("aerostic_ai_decisions", {(outcome, rule): 1}))
    return decision


def _record(decision: AIReply, verdict: Verdict) -> None:
    answer = verdict.answer
    decision.rule, decision.reason = verdict.rule, verdict.reason
    decision.outcome = Outcome.SILENT if verdict.rule in SILENT_RULES else Outcome.HANDED_OVER
    if answer is not None:
        decision.confidence = answer.confidence
        decision.intent = answer.intent
        decision.provider, decision.model = answer.provider[:24], answer.model[:100]
        decision.prompt_tokens, decision.completion_tokens = answer.prompt_tokens, answer.completion_tokens
        source = KnowledgeAnswer.objects.filter(pk=int(answer.source)).first() if answer.source.isdigit() else None
        if source is not None:
            decision.source, decision.source_question = source, source.question[:500]
    if verdict.intent:
        decision.intent = verdict.intent[:32]
    decision.save()


def _reply(conversation: Conversation, decision: AIReply, verdict: Verdict) -> None:
    """Sends the answer, unless a person took the conversation over meanwhile (checked under the
    conversation's row lock, which a takeover also takes)."""
    answer = verdict.answer
    assert answer is not None
    locked = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("contact", "phone_number")
        .get(pk=conversation.pk)
    )
    if locked.ai_paused_at is not None:
        decision.outcome, decision.rule, decision.reason = Outcome.SILENT, "taken_over", REASONS["taken_over"]
        decision.save(update_fields=["outcome", "rule", "reason"])
        return
    outbound = dispatch.message_enqueue(
        phone=locked.phone_number,
        to=locked.customer_wa_id.reveal(),
        content={"type": "text", "text": {"body": answer.reply[:4096], "preview_url": False}},
        category=OutboundMessage.Category.SERVICE,
        origin=OutboundMessage.Origin.AI,
        contact=locked.contact,
        idempotency_key=f"ai:{decision.wamid}",
    )
    decision.outcome, decision.outbound = Outcome.ANSWERED, outbound
    decision.save(update_fields=["outcome", "outbound"])
    event_add(
        conversation,
        ConversationEvent.Kind.AI_REPLIED,
        None,
        confidence=round(answer.confidence, 3),
        source_id=decision.source_id,
        source_question=decision.source_question,
        provider=decision.provider,
        outbound_id=outbound.pk,
    )


def _hand_over(conversation: Conversation, decision: AIReply, settings: AISettings | None) -> None:
    """The timeline says why the AI did not answer; a person gets the conversation."""
    event = event_add(
        conversation,
        ConversationEvent.Kind.AI_HANDOVER,
        None,
        rule=decision.rule,
        reason=decision.reason,
        intent=decision.intent,
        confidence=decision.confidence,
    )
    if conversation.assignee_id is None and settings is not None and settings.handover_team_id is not None:
        conversation_team(conversation, team_id=settings.handover_team_id, actor=None, round_robin=True)
    if conversation.assignee_id is not None:  # told in their navigation, as a mention is
        Mention.objects.get_or_create(
            tenant_id=conversation.tenant_id,
            event=event,
            conversation=conversation,
            user_id=conversation.assignee_id,
        )
