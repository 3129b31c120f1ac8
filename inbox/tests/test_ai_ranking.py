"""The built-in provider's ranking (inbox.ai.ranking): normalisation, script detection, which pair
comes first for paraphrases, typos and Hindi, and what the calibrated confidence does."""

from __future__ import annotations

import pytest

from inbox.ai.ranking import KnowledgeIndex, normalise, script_of
from inbox.ai.samples import sample_pairs
from inbox.ai.types import KnowledgePair

REFUND = KnowledgePair(
    key="refund",
    question="What is your refund policy?",
    answer="Refunds reach the original payment method within 7 working days of the return being received.",
    alternates=("When will I get my money back?",),
)
DELIVERY = KnowledgePair(
    key="delivery",
    question="How long does delivery take?",
    answer="Delivery takes 2–4 business days in metro cities and up to 7 elsewhere.",
    alternates=("When will my parcel arrive?",),
)
HOURS = KnowledgePair(
    key="hours",
    question="What are your opening hours?",
    answer="We are open from 10 AM to 8 PM every day.",
    alternates=("When does the shop open?",),
)


@pytest.fixture(scope="module")
def sample_index() -> KnowledgeIndex:
    return KnowledgeIndex(sample_pairs())


def _top(index: KnowledgeIndex, question: str, **options) -> str:
    return index.search(question, **options)[0].pair.key


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Café CRÈME!! 😀", "cafe creme"),
        ("₹999 — free?", "999 free"),
        ("ज़्यादा कहाँ।", "ज्यादा कहां"),  # nukta and chandrabindu folded, danda dropped
        ("kurta's_size", "kurta s size"),
    ],
    ids=["accents-and-emoji", "currency-and-dash", "devanagari-kept", "apostrophe-and-underscore"],
)
def test_normalise_folds_case_accents_and_punctuation(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("मेरा ऑर्डर कहाँ है?", "hi"),
        ("Kavya Circle क्या होता है?", "hi"),
        ("mera order kahan hai?", "en"),
        ("Where is my order?", "en"),
        ("👍", "en"),
    ],
    ids=["devanagari", "devanagari-with-brand", "hinglish", "english", "emoji-only"],
)
def test_script_of_tells_devanagari_from_latin(text, script):
    assert script_of(text) == script


def test_every_phrasing_asked_as_written_ranks_its_own_pair_first(sample_index):
    missed = [
        (pair.key, text)
        for pair in sample_index.pairs
        for text in (pair.question, *pair.alternates)
        if sample_index.search(text, limit=1)[0].pair.key != pair.key
    ]

    assert missed == []


@pytest.mark.parametrize("key", ["kb-001", "kb-009", "kb-052", "kb-084"])
def test_a_pairs_own_question_is_answered_with_confidence_well_above_the_default_threshold(sample_index, key):
    pair = next(pair for pair in sample_index.pairs if pair.key == key)

    matches = sample_index.search(pair.question, limit=2)

    assert matches[0].pair.key == key
    assert matches[0].confidence > 0.6
    assert matches[1].confidence < matches[0].confidence


@pytest.mark.parametrize(
    ("question", "key"),
    [
        ("which cities get express shipping", "kb-009"),
        ("do your gift cards expire", "kb-031"),
        ("forgot my password, how to reset it", "kb-044"),
        ("is there an app for iphone", "kb-075"),
    ],
)
def test_a_paraphrase_ranks_its_pair_first(sample_index, question, key):
    assert _top(sample_index, question) == key


@pytest.mark.parametrize(
    ("question", "key"),
    [("refnd polcy?", "refund"), ("how long dos delivry tke", "delivery"), ("openng hours", "hours")],
)
def test_typos_still_find_the_pair(question, key):
    index = KnowledgeIndex([REFUND, DELIVERY, HOURS])

    best = index.search(question)[0]

    assert best.pair.key == key
    assert best.features.fuzzy > 0.5


def test_a_devanagari_question_gets_hindi_pairs_only(sample_index):
    matches = sample_index.search("साइज़ चार्ट कहां मिलेगा", limit=5)

    assert matches[0].pair.key == "kb-084"
    assert {match.pair.language for match in matches} == {"hi"}


def test_hinglish_in_latin_script_gets_english_pairs(sample_index):
    matches = sample_index.search("cash on delivery ka option hai kya?", limit=5)

    assert matches[0].pair.key == "kb-013"
    assert {match.pair.language for match in matches} == {"en"}


def test_the_language_argument_overrides_the_script(sample_index):
    matches = sample_index.search("COD", language="hi", limit=3)

    assert matches[0].pair.key == "kb-083"
    assert {match.pair.language for match in matches} == {"hi"}


def test_a_base_without_the_questions_language_answers_from_all_pairs():
    index = KnowledgeIndex([REFUND, DELIVERY, HOURS])

    matches = index.search("डिलीवरी delivery कब तक?")

    assert script_of("डिलीवरी delivery कब तक?") == "hi"
    assert matches[0].pair.key == "delivery"


def test_confidence_is_a_probability_that_falls_as_the_match_weakens(sample_index):
    exact = sample_index.search("Do you offer express delivery?")[0]
    paraphrase = sample_index.search("which cities get express shipping")[0]
    loose = sample_index.search("is express shipping possible for my order")[0]
    unrelated = sample_index.search("what is the capital of France")[0]
    nothing = sample_index.search("hello!!")[0]

    assert exact.pair.key == paraphrase.pair.key == loose.pair.key == "kb-009"
    assert 1.0 >= exact.confidence > paraphrase.confidence > loose.confidence > unrelated.confidence >= 0.0
    assert exact.confidence > 0.7
    assert unrelated.confidence < 0.05
    assert nothing.confidence < 0.05


def test_runners_up_are_less_confident_than_the_best_match(sample_index):
    matches = sample_index.search("how much is the fee for cash on delivery", limit=3)

    assert max(match.confidence for match in matches) == matches[0].confidence
    assert all(match.features.margin == 0 for match in matches[1:])


def test_matches_are_distinct_pairs_best_first_up_to_the_limit(sample_index):
    matches = sample_index.search("how do I exchange a kurta", limit=4)

    assert len(matches) == 4
    assert len({match.pair.key for match in matches}) == 4
    assert [match.score for match in matches] == sorted((match.score for match in matches), reverse=True)
    assert matches[0].features.margin > 0


def test_an_empty_base_finds_nothing():
    index = KnowledgeIndex([])

    assert len(index) == 0
    assert index.search("Where is my order?") == []


def test_holding_out_a_phrasing_lowers_its_match_and_holding_out_the_pair_removes_it(sample_index):
    position = next(i for i, pair in enumerate(sample_index.pairs) if pair.key == "kb-009")
    question = sample_index.pairs[position].question

    full = sample_index.search(question, limit=1)[0]
    without_phrasing = sample_index.search_held_out(question, position=position, phrasing=0, limit=1)[0]
    without_pair = sample_index.search_held_out(question, position=position, phrasing=None, limit=20)

    assert full.pair.key == "kb-009" and full.features.word == pytest.approx(1.0)
    assert without_phrasing.confidence < full.confidence
    assert without_phrasing.features.word < 1.0
    assert "kb-009" not in {match.pair.key for match in without_pair}
