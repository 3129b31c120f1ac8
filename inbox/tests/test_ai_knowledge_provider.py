"""The built-in provider (inbox.ai.knowledge_provider): its Answer, the index cache keyed by
(tenant, knowledge version), and the pairs it gives the chat provider to ground on."""

from __future__ import annotations

import threading

import pytest

from inbox.ai.knowledge_provider import KnowledgeProvider
from inbox.ai.samples import sample_pairs
from inbox.ai.types import Context, KnowledgePair

HOURS = KnowledgePair(
    key="hours",
    question="What are your opening hours?",
    answer="We are open from 10 AM to 8 PM every day.",
    alternates=("When does the shop open?",),
)
DELIVERY = KnowledgePair(
    key="delivery",
    question="How long does delivery take?",
    answer="Delivery takes 2–4 business days.",
    alternates=("When will my parcel arrive?",),
)
RETURNS = KnowledgePair(
    key="returns", question="Can I return an item?", answer="Yes, within 15 days of delivery, unworn with tags."
)


@pytest.fixture(scope="module")
def sample_knowledge() -> tuple[KnowledgePair, ...]:
    return tuple(sample_pairs())


def _context(question: str, knowledge=(HOURS, DELIVERY, RETURNS), **values) -> Context:
    return Context(question=question, knowledge=tuple(knowledge), **values)


def test_the_answer_is_the_best_pairs_answer_with_its_confidence_and_source(sample_knowledge):
    provider = KnowledgeProvider()

    answer = provider.answer(_context("Do you offer cash on delivery?", sample_knowledge))

    cod = next(pair for pair in sample_knowledge if pair.key == "kb-013")
    assert answer.reply == cod.answer
    assert answer.source == "kb-013"
    assert 0.6 < answer.confidence <= 1.0
    assert (answer.provider, answer.model) == ("knowledge_base", "tfidf-rapidfuzz")
    assert (answer.tokens, answer.intent) == (0, "")
    candidates = answer.details["candidates"]
    assert len(candidates) == 3
    assert candidates[0] == ("kb-013", cod.question, round(answer.confidence, 3))
    assert [confidence for _, _, confidence in candidates] == sorted(
        (confidence for _, _, confidence in candidates), reverse=True
    )


def test_a_message_naming_a_blocked_topic_carries_its_intent():
    answer = KnowledgeProvider().answer(_context("I want a refund for my return"))

    assert answer.intent == "refunds"
    assert answer.source == "returns"  # still ranked: the guardrails decide, on the intent


def test_an_empty_knowledge_base_gives_an_empty_answer():
    answer = KnowledgeProvider().answer(_context("What are your opening hours?", knowledge=()))

    assert (answer.reply, answer.confidence, answer.source) == ("", 0.0, "")
    assert answer.details == {}


def test_an_unrelated_question_gets_a_low_confidence():
    answer = KnowledgeProvider().answer(_context("Who won the cricket match yesterday?"))

    assert answer.confidence < 0.1


def test_the_index_is_cached_per_tenant_and_version():
    provider = KnowledgeProvider()

    provider.answer(_context("opening hours?", tenant_id=1, knowledge_version=3))
    provider.answer(_context("delivery time?", tenant_id=1, knowledge_version=3))
    provider.answer(_context("opening hours?", tenant_id=2, knowledge_version=3))

    assert (provider.cache.misses, provider.cache.hits) == (2, 1)


def test_a_new_version_is_a_new_index_never_a_stale_answer():
    provider = KnowledgeProvider()
    changed = KnowledgePair(key="hours", question=HOURS.question, answer="From 1 May we open at 9 AM.")

    before = provider.answer(_context("opening hours?", tenant_id=1, knowledge_version=1))
    after = provider.answer(_context("opening hours?", (changed, DELIVERY), tenant_id=1, knowledge_version=2))

    assert before.reply == HOURS.answer
    assert after.reply == "From 1 May we open at 9 AM."
    assert provider.cache.misses == 2


def test_without_a_version_nothing_is_cached():
    provider = KnowledgeProvider()

    provider.answer(_context("opening hours?", tenant_id=1))
    answer = provider.answer(_context("opening hours?", (DELIVERY,), tenant_id=1))

    assert answer.source == "delivery"
    assert (provider.cache.misses, provider.cache.hits) == (0, 0)


def test_the_least_recently_used_index_is_dropped_past_the_cache_size():
    provider = KnowledgeProvider(cache_size=2)

    for tenant_id in (1, 2, 1, 3):  # tenant 2 is now the least recently used
        provider.answer(_context("opening hours?", tenant_id=tenant_id, knowledge_version=1))
    provider.answer(_context("opening hours?", tenant_id=1, knowledge_version=1))
    provider.answer(_context("opening hours?", tenant_id=2, knowledge_version=1))

    assert (provider.cache.misses, provider.cache.hits) == (4, 2)


def test_concurrent_answers_share_one_index_and_agree(sample_knowledge):
    provider = KnowledgeProvider()
    answers = []
    lock = threading.Lock()

    def ask() -> None:
        answer = provider.answer(
            _context("how do I track my order", sample_knowledge, tenant_id=7, knowledge_version=1)
        )
        with lock:
            answers.append((answer.source, answer.confidence))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(answers) == 8 and len(set(answers)) == 1
    assert answers[0][0] == "kb-001"
    assert provider.cache.misses + provider.cache.hits == 8
    provider.answer(_context("how do I track my order", sample_knowledge, tenant_id=7, knowledge_version=1))
    assert provider.cache.hits >= 1


def test_top_pairs_are_the_best_k_for_the_question(sample_knowledge):
    pairs = KnowledgeProvider().top_pairs(_context("how much does shipping cost", sample_knowledge), 4)

    # both pairs about what shipping costs (within India, abroad) are there for the model to choose
    assert len(pairs) == 4
    assert {"kb-008", "kb-011"} <= {pair.key for pair in pairs[:2]}
    assert len({pair.key for pair in pairs}) == 4


def test_top_pairs_of_an_empty_base_or_question_are_none():
    provider = KnowledgeProvider()

    assert provider.top_pairs(_context("shipping?", knowledge=()), 3) == []
    assert provider.top_pairs(_context("   "), 3) == []


def test_a_new_workspace_starts_at_the_benchmarks_recommended_threshold():
    from inbox.ai.knowledge_provider import RECOMMENDED_THRESHOLD
    from inbox.ai.models import DEFAULT_THRESHOLD

    assert DEFAULT_THRESHOLD == RECOMMENDED_THRESHOLD
