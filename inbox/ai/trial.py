"""Trying the AI before it answers anyone, for the settings page's "Try it" and the REST API: what it
would do with one question (the rules a question alone decides, inbox.ai.autoreply.judge_question),
and how each confidence threshold would do on the workspace's own pairs (leave-one-out,
inbox.ai.evaluation). Nothing is sent or stored; a chat model's tokens are metered as any."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from inbox.ai import selectors, usage
from inbox.ai.autoreply import Verdict, judge_question
from inbox.ai.evaluation import LeaveOneOutReport, leave_one_out
from inbox.ai.models import KnowledgeAnswer

# The rules that need a real conversation (inbox.ai.autoreply rules 1–4 and 7): a trial cannot check them.
NOT_CHECKED = (
    "the AI is on for the number the customer wrote to",
    "no agent has taken the conversation over",
    "the customer's 24-hour window is open",
    "the customer has not opted out",
    "the conversation's daily reply cap",
)
EVALUATION_THRESHOLDS = (0.35, 0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass(frozen=True)
class Trial:
    question: str
    verdict: Verdict
    source: KnowledgeAnswer | None  # the pair the reply comes from, when it is one of the knowledge base's
    threshold: float
    ai_enabled: bool

    @property
    def confidence_percent(self) -> int | None:
        answer = self.verdict.answer
        return round(answer.confidence * 100) if answer is not None else None


def question_trial(tenant_id: int, *, question: str, language: str = "") -> Trial:
    """What the AI would do with `question` under the workspace's saved settings."""
    settings = selectors.ai_settings()
    verdict = judge_question(settings, tenant_id=tenant_id, question=question, language=language)
    source = None
    answer = verdict.answer
    if answer is not None and answer.tokens:  # a chat model's tokens cost the same in a trial
        usage.tokens_record(
            tenant_id=tenant_id,
            reference=f"ai-trial:{uuid.uuid4()}",
            provider=answer.provider,
            model=answer.model,
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
        )
    if answer is not None and answer.source.isdigit():
        # None when the pair was deleted since the provider's index was built
        source = selectors.knowledge_list().filter(pk=int(answer.source)).first()
    return Trial(
        question=question, verdict=verdict, source=source, threshold=settings.threshold, ai_enabled=settings.enabled
    )


@dataclass(frozen=True)
class ThresholdEvaluation:
    report: LeaveOneOutReport | None  # None: fewer than two enabled pairs, nothing to leave out
    current_threshold: float


def threshold_evaluation(tenant_id: int) -> ThresholdEvaluation:
    """Leave-one-out over the workspace's enabled pairs at the usual thresholds and the current one
    (inbox.ai.evaluation caps how many pairs a large knowledge base has asked)."""
    settings = selectors.ai_settings()
    pairs = selectors.knowledge_pairs(tenant_id, settings.knowledge_version)
    if len(pairs) < 2:
        return ThresholdEvaluation(report=None, current_threshold=settings.threshold)
    thresholds = sorted({*EVALUATION_THRESHOLDS, settings.threshold})
    return ThresholdEvaluation(report=leave_one_out(pairs, thresholds), current_threshold=settings.threshold)
