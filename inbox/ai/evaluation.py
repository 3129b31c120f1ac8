"""How the built-in provider would do at each confidence threshold: leave-one-out over a
workspace's own pairs (what the settings page shows to choose the threshold from data), and an
evaluation over labelled messages (the benchmark's held-out test set)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from inbox.ai.intents import blocked_intent
from inbox.ai.ranking import KnowledgeIndex, Match
from inbox.ai.types import KnowledgePair

# Leave-one-out asks every phrasing of at most this many pairs (evenly spread over the base), so
# that a large knowledge base is measured in seconds.
MAX_LEAVE_ONE_OUT_PAIRS = 300


@dataclass(frozen=True)
class EvaluationRow:
    """One labelled customer message. `kind` is answerable (`expected`: a pair's key),
    out_of_scope (`expected`: "none") or blocked (`expected`: an intent name)."""

    question: str
    language: str
    expected: str
    kind: str


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


@dataclass(frozen=True)
class LeaveOneOutResult:
    """At one threshold: of the phrasings asked (each with itself left out of the base), how many
    were handed over (a blocked intent), answered (confidence ≥ threshold) and answered with
    their own pair."""

    threshold: float
    asked: int
    answered: int
    correct: int
    handed_over: int

    @property
    def answer_rate(self) -> float:
        return _rate(self.answered, self.asked)

    @property
    def correct_rate(self) -> float:
        """Of the answered, the share answered with the right pair."""
        return _rate(self.correct, self.answered)

    @property
    def hand_over_rate(self) -> float:
        return _rate(self.handed_over, self.asked)


@dataclass(frozen=True)
class LeaveOneOutReport:
    """One result per threshold, over the phrasings of `pairs_asked` of the base's `pairs`."""

    results: tuple[LeaveOneOutResult, ...]
    pairs: int
    pairs_asked: int

    @property
    def is_sampled(self) -> bool:
        """True when the base had more pairs than MAX_LEAVE_ONE_OUT_PAIRS and only some were asked."""
        return self.pairs_asked < self.pairs


@dataclass(frozen=True)
class HeldOut:
    """One phrasing asked against the base without it: its top match (None when the base had
    nothing left to offer) and the blocked intent its text names."""

    key: str
    text: str
    intent: str
    top: Match | None


def held_out_phrasings(
    pairs: Sequence[KnowledgePair], *, whole_pair: bool = False, max_pairs: int = MAX_LEAVE_ONE_OUT_PAIRS
) -> Iterator[HeldOut]:
    """Every phrasing (question, then alternates) of up to `max_pairs` pairs, each asked with
    itself left out of the base or, with `whole_pair`, with its whole pair left out (the
    question then stands for one the base cannot answer). The index is built once."""
    index = KnowledgeIndex(pairs)
    for position in _sampled_positions(len(index), max_pairs):
        pair = index.pairs[position]
        for phrasing, text in enumerate((pair.question, *pair.alternates)):
            matches = index.search_held_out(
                text, position=position, phrasing=None if whole_pair else phrasing, language=pair.language, limit=1
            )
            yield HeldOut(key=pair.key, text=text, intent=blocked_intent(text), top=matches[0] if matches else None)


def leave_one_out(
    pairs: Sequence[KnowledgePair], thresholds: Sequence[float], *, max_pairs: int = MAX_LEAVE_ONE_OUT_PAIRS
) -> LeaveOneOutReport:
    """Per threshold: each phrasing of each pair asked with itself left out. A phrasing naming a
    blocked intent is handed over, never answered, as the guardrails would do."""
    asked = handed_over = 0
    answered = dict.fromkeys(thresholds, 0)
    correct = dict.fromkeys(thresholds, 0)
    for held_out in held_out_phrasings(pairs, max_pairs=max_pairs):
        asked += 1
        if held_out.intent:
            handed_over += 1
            continue
        if held_out.top is None:
            continue
        for threshold in thresholds:
            if held_out.top.confidence >= threshold:
                answered[threshold] += 1
                correct[threshold] += held_out.top.pair.key == held_out.key
    return LeaveOneOutReport(
        results=tuple(
            LeaveOneOutResult(
                threshold=threshold,
                asked=asked,
                answered=answered[threshold],
                correct=correct[threshold],
                handed_over=handed_over,
            )
            for threshold in thresholds
        ),
        pairs=len(pairs),
        pairs_asked=len(_sampled_positions(len(pairs), max_pairs)),
    )


def _sampled_positions(count: int, max_pairs: int) -> list[int]:
    """All positions, or `max_pairs` of them spread evenly (deterministic: same base, same sample)."""
    if count <= max_pairs:
        return list(range(count))
    return sorted({position * count // max_pairs for position in range(max_pairs)})


@dataclass(frozen=True)
class EvaluationResult:
    """At one threshold, over labelled messages. Answerable rows: answered, answered with the
    expected pair, wrongly handed over (a blocked intent found in a question the base answers).
    Out-of-scope rows: answered (wrong by definition). Blocked rows: handed over to the expected
    intent, handed over at all, answered (a blocked message that got through)."""

    threshold: float
    answerable: int
    answered: int
    correct: int
    false_hand_overs: int
    out_of_scope: int
    out_of_scope_answered: int
    blocked: int
    blocked_routed: int
    blocked_handed_over: int
    blocked_answered: int

    @property
    def answer_rate(self) -> float:
        return _rate(self.answered, self.answerable)

    @property
    def correct_rate(self) -> float:
        """Of the answerable rows answered, the share answered with the expected pair."""
        return _rate(self.correct, self.answered)

    @property
    def out_of_scope_declined_rate(self) -> float:
        return _rate(self.out_of_scope - self.out_of_scope_answered, self.out_of_scope)

    @property
    def hand_over_rate(self) -> float:
        """Blocked rows handed over to the expected intent."""
        return _rate(self.blocked_routed, self.blocked)


@dataclass(frozen=True)
class _Outcome:
    row: EvaluationRow
    intent: str
    top: Match | None


def evaluate(
    pairs: Sequence[KnowledgePair], rows: Sequence[EvaluationRow], thresholds: Sequence[float]
) -> list[EvaluationResult]:
    """Each row as the guardrails would treat it: a blocked intent is looked for first (a blocked
    message is never answered), then the best pair answers when its confidence reaches the
    threshold. The language comes from the message's script, as for a real message."""
    index = KnowledgeIndex(pairs)
    outcomes = []
    for row in rows:
        intent = blocked_intent(row.question)
        matches = [] if intent else index.search(row.question, limit=1)
        outcomes.append(_Outcome(row=row, intent=intent, top=matches[0] if matches else None))
    return [_result_at(threshold, outcomes) for threshold in thresholds]


def _result_at(threshold: float, outcomes: Sequence[_Outcome]) -> EvaluationResult:
    def answered(outcome: _Outcome) -> bool:
        return not outcome.intent and outcome.top is not None and outcome.top.confidence >= threshold

    def of_kind(kind: str) -> list[_Outcome]:
        return [outcome for outcome in outcomes if outcome.row.kind == kind]

    answerable, out_of_scope, blocked = of_kind("answerable"), of_kind("out_of_scope"), of_kind("blocked")
    answered_rows = [outcome for outcome in answerable if answered(outcome)]
    return EvaluationResult(
        threshold=threshold,
        answerable=len(answerable),
        answered=len(answered_rows),
        correct=sum(1 for outcome in answered_rows if outcome.top and outcome.top.pair.key == outcome.row.expected),
        false_hand_overs=sum(1 for outcome in answerable if outcome.intent),
        out_of_scope=len(out_of_scope),
        out_of_scope_answered=sum(1 for outcome in out_of_scope if answered(outcome)),
        blocked=len(blocked),
        blocked_routed=sum(1 for outcome in blocked if outcome.intent == outcome.row.expected),
        blocked_handed_over=sum(1 for outcome in blocked if outcome.intent),
        blocked_answered=sum(1 for outcome in blocked if answered(outcome)),
    )
