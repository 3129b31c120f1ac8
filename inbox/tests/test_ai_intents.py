"""Blocked intents (inbox.ai.intents): the built-in cues in English, Hinglish and Hindi, prefix
and gap matching, the workspace's own words, and no false blocks on what the knowledge base answers."""

from __future__ import annotations

import pytest

from inbox.ai.intents import CUES, INTENTS, WORKSPACE_INTENT, blocked_intent, intent_label
from inbox.ai.samples import sample_pairs


def test_the_six_builtin_intents_have_labels_and_cues():
    assert set(INTENTS) == {"payments", "refunds", "legal", "medical", "complaints", "human"}
    assert INTENTS["human"] == "talking to a person"
    assert all(CUES[intent] for intent in INTENTS)


@pytest.mark.parametrize(
    ("message", "intent"),
    [
        ("My UPI payment failed but the money got deducted", "payments"),
        ("you charged me twice for one order!!", "payments"),
        ("mere paise kat gaye par order confirm nahi hua", "payments"),
        ("पेमेंट फेल हो गया लेकिन पैसे कट गए", "payments"),
        ("When will I get my refund?", "refunds"),
        ("order KT12345 still hasn't been refunded", "refunds"),
        ("paise wapas kab milenge?", "refunds"),
        ("रिफंड कब आएगा?", "refunds"),
        ("I will send you a legal notice", "legal"),
        ("I'll take you to consumer court", "legal"),
        ("The necklace gave me a rash, is it nickel?", "medical"),
        ("is this fabric ok for someone with eczema", "medical"),
        ("worst service ever, totally disappointed", "complaints"),
        ("I want to file a complaint about your delivery boy", "complaints"),
        ("Can I talk to a real person please", "human"),
        ("kisi insaan se baat karni hai", "human"),
        ("मुझे किसी से बात करनी है", "human"),
    ],
)
def test_a_message_naming_a_blocked_topic_is_recognised(message, intent):
    assert blocked_intent(message) == intent


@pytest.mark.parametrize(
    "message",
    [
        "what UPI options do you take",
        "Can I pay with Google Pay or a credit card?",
        "Is there an extra charge for cash on delivery?",
        "How do I change the phone number on my account?",
        "Where is your Bengaluru store? Is it in Lotus Court?",
        "How do I report a damaged item?",
        "Do you offer EMI?",
        "Do you have suede jackets?",  # "sue" is a cue, but a whole word only
        "",
        "🙏🙏",
    ],
)
def test_a_question_the_knowledge_base_answers_is_not_blocked(message):
    assert blocked_intent(message) == ""


def test_no_phrasing_of_the_sample_knowledge_base_is_blocked():
    blocked = [
        (pair.key, text, blocked_intent(text))
        for pair in sample_pairs()
        for text in (pair.question, *pair.alternates)
        if blocked_intent(text)
    ]

    assert blocked == []


@pytest.mark.parametrize(
    ("message", "intent"),
    [
        ("is my order refundable", "refunds"),  # "refund" (5+ letters) matches as a prefix
        ("I am complaining for the third time", "complaints"),
        ("the amount was deducted", "payments"),
        ("the money has already been deducted", "payments"),  # "money * deducted": up to 3 words between
    ],
)
def test_long_cues_match_longer_words_and_gaps(message, intent):
    assert blocked_intent(message) == intent


def test_matching_ignores_case_accents_and_punctuation():
    assert blocked_intent("REFUND!!!") == "refunds"
    assert blocked_intent("Réfund please") == "refunds"
    assert blocked_intent("payment...failed") == "payments"


def test_the_workspaces_own_words_are_reported_as_workspace():
    extra = ["gold", "Real Diamond"]

    assert blocked_intent("Is this real diamond?", extra) == WORKSPACE_INTENT
    assert blocked_intent("GOLD plated or solid?", extra) == WORKSPACE_INTENT
    # a cue of fewer than 5 letters matches the whole word only
    assert blocked_intent("do you have golden sarees", extra) == ""


def test_the_workspaces_words_may_name_the_intent_they_belong_to():
    extra = {"legal": ["trademark"], "medical": ["pregnant"]}

    assert blocked_intent("you copied our trademark", extra) == "legal"
    assert blocked_intent("I am pregnant, which size?", extra) == "medical"
    assert blocked_intent("I am pregnant, which size?") == ""


def test_a_builtin_intent_wins_over_the_workspaces_words():
    assert blocked_intent("refund for my gold earrings", ["gold"]) == "refunds"


def test_labels_name_intents_for_people():
    assert intent_label("human") == "talking to a person"
    assert intent_label("refunds") == "a refund"
    assert intent_label(WORKSPACE_INTENT) == "a topic on the workspace's blocked list"
    assert intent_label("unknown") == "unknown"
