"""STOP / START keywords: whole messages only, in several languages, whatever the case, accents,
spacing and punctuation; a workspace's own words; Devanagari survives accent folding."""

import pytest

from compliance.keywords import OPT_IN_WORDS, OPT_OUT_WORDS, fold, match_keyword

OPT_OUTS = [
    ("STOP", "en-upper"),
    ("stop", "en-lower"),
    (" Stop! ", "en-spaces-and-bang"),
    ("stop.", "en-full-stop"),
    ("\tSTOP\n", "en-tabs-newline"),
    ("Unsubscribe", "en-unsubscribe"),
    ("CANCEL", "en-cancel"),
    ("end", "en-end"),
    ("Quit", "en-quit"),
    ("STOPALL", "en-stopall"),
    ("stop   all", "en-stop-all-inner-spaces"),
    ("Stop promotions", "meta-opt-out-button"),
    ("ＳＴＯＰ", "full-width"),
    ("STOP 🛑", "emoji-after"),
    ("STOP 🛑\ufe0f", "emoji-with-variation-selector"),
    ("stop\u200d", "zero-width-joiner"),
    ("Parar", "pt-es-parar"),
    ("SAIR", "pt-sair"),
    ("cancelar", "pt-es-cancelar"),
    ("¡Parar!", "es-inverted-bang"),
    ("ARRÊT", "fr-arret-accent"),
    ("arret", "fr-arret-no-accent"),
    ("Arrêt", "fr-arret-mixed-case"),
    ("ARRE\u0302T", "fr-arret-decomposed-accent"),
    ("désabonner", "fr-desabonner"),
    ("STOPP", "de-stopp"),
    ("abmelden", "de-abmelden"),
    ("berhenti", "id-berhenti"),
    ("रोकें", "hi-rokein"),
    ("रोकें।", "hi-rokein-danda"),
    ("बंद करो", "hi-band-karo"),
    (" बंद   करो ", "hi-band-karo-spaces"),
    ("توقف", "ar-tawaqqaf"),
]


@pytest.mark.parametrize("text", [text for text, _ in OPT_OUTS], ids=[name for _, name in OPT_OUTS])
def test_opt_out_keywords_match(text):
    assert match_keyword(text) == "opt_out"


OPT_INS = [
    ("START", "en-start"),
    ("start!", "en-start-bang"),
    ("Subscribe", "en-subscribe"),
    ("UNSTOP", "en-unstop"),
    ("Démarrer", "fr-demarrer"),
    ("demarrer", "fr-demarrer-no-accent"),
    ("comenzar", "es-comenzar"),
    ("शुरू करें", "hi-shuru-karein"),
]


@pytest.mark.parametrize("text", [text for text, _ in OPT_INS], ids=[name for _, name in OPT_INS])
def test_opt_in_keywords_match(text):
    assert match_keyword(text) == "opt_in"


NOT_KEYWORDS = [
    ("stop the delivery at 5", "stop-inside-a-sentence"),
    ("Please don't stop", "stop-at-the-end-of-a-sentence"),
    ("can I cancel my order?", "cancel-in-a-question"),
    ("stopping", "longer-word"),
    ("st op", "split-word"),
    ("start time?", "start-in-a-question"),
    ("Where is the end of the queue", "end-in-a-sentence"),
    ("", "empty"),
    ("   ", "blank"),
    ("!!!", "punctuation-only"),
    ("🛑", "emoji-only"),
    ("रोक", "hi-a-different-word"),
    ("रक", "hi-what-stripping-every-mark-would-give"),
    ("मैं बंद करो नहीं कहूँगा", "hi-inside-a-sentence"),
    ("stop " * 100, "very-long"),
]


@pytest.mark.parametrize("text", [text for text, _ in NOT_KEYWORDS], ids=[name for _, name in NOT_KEYWORDS])
def test_ordinary_messages_are_not_keywords(text):
    assert match_keyword(text) is None


def test_folding_keeps_devanagari_vowel_signs_but_drops_latin_accents():
    assert fold("रोकें") == "रोकें"
    assert fold("बंद") == "बंद"
    assert fold("ARRÊT") == "arret"
    assert fold("  Désabonner!! ") == "desabonner"


def test_every_builtin_word_matches_itself_in_any_case():
    for kind, table in (("opt_out", OPT_OUT_WORDS), ("opt_in", OPT_IN_WORDS)):
        for words in table.values():
            for word in words:
                assert match_keyword(word) == kind, word
                assert match_keyword(word.lower()) == kind, word


def test_no_word_is_both_opt_out_and_opt_in():
    opt_out = {fold(word) for words in OPT_OUT_WORDS.values() for word in words}
    opt_in = {fold(word) for words in OPT_IN_WORDS.values() for word in words}
    assert not opt_out & opt_in


def test_workspace_words_are_matched_the_same_way():
    extra_out, extra_in = ["No más", "BASTA YA"], ["Quiero ofertas"]
    assert match_keyword("no mas!", extra_opt_out=extra_out, extra_opt_in=extra_in) == "opt_out"
    assert match_keyword("  basta   ya ", extra_opt_out=extra_out, extra_opt_in=extra_in) == "opt_out"
    assert match_keyword("QUIERO OFERTAS", extra_opt_out=extra_out, extra_opt_in=extra_in) == "opt_in"
    assert match_keyword("no mas") is None  # only for the workspace that added it


def test_a_workspace_word_that_is_both_opts_out():
    assert match_keyword("pause", extra_opt_out=["PAUSE"], extra_opt_in=["pause"]) == "opt_out"


def test_blank_workspace_words_match_nothing():
    assert match_keyword("!", extra_opt_out=["", "  "], extra_opt_in=[""]) is None


@pytest.mark.parametrize(
    ("title", "expected"),
    [("Stop promotions", "opt_out"), ("STOP", "opt_out"), ("Cancel", None), ("End", None), ("Subscribe", "opt_in")],
    ids=repr,
)
def test_a_tapped_button_counts_only_for_unambiguous_words(title, expected):
    # "Cancel" on an appointment reminder cancels the appointment, not the subscription.
    assert match_keyword(title, from_button=True) == expected


def test_a_workspaces_own_words_count_on_its_buttons():
    assert match_keyword("No more offers", extra_opt_out=["no more offers"], from_button=True) == "opt_out"
