"""STOP / START keywords: does an inbound WhatsApp message, taken as a whole, opt the sender out or in?

Only a message that *is* the keyword counts: "Stop!" and " stop. " opt out, "stop the delivery at
5" does not (a customer talking about their order must not lose their subscription). Before the
comparison both the message and every keyword are folded the same way by `fold`:

- Unicode compatibility forms are unified (NFKD: full-width "ＳＴＯＰ" is "STOP"), then accents
  are dropped by removing the *Latin* combining diacritics only (U+0300–U+036F and their extension
  blocks), so "ARRÊT" is "arret" while Devanagari vowel signs and the anusvara — combining marks
  too — stay: stripping every combining mark would turn "रोकें" (stop) into "रक" and make unrelated
  words collide. The text is recomposed (NFC) so both sides end in the same canonical form.
- Case is folded (`str.casefold`: "STOPP" and "stopp", "ß" and "ss").
- Zero-width joiners and emoji variation selectors are removed; whitespace, punctuation and
  symbols (emoji included) are trimmed from both ends and inner whitespace becomes one space.

The built-in words follow the carriers' and Meta's conventions (STOP, UNSUBSCRIBE, CANCEL, END,
QUIT, STOPALL, START, UNSTOP…) plus a few common languages of WhatsApp markets; a workspace adds
its own in `ComplianceSettings.extra_opt_out_words` / `extra_opt_in_words`. When a word is both an
opt-out and an opt-in word, opting out wins: honouring a "stop" wrongly is the safer mistake.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Final, Literal

Match = Literal["opt_out", "opt_in"]
OPT_OUT: Final = "opt_out"
OPT_IN: Final = "opt_in"

# Opt-out words by language. Accents are optional when typed (folding drops them); they are written
# here as the language writes them so the list reads correctly.
OPT_OUT_WORDS: dict[str, tuple[str, ...]] = {
    "en": (
        "STOP",
        "STOPALL",
        "STOP ALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "OPT OUT",
        "OPTOUT",
        "STOP PROMOTIONS",  # the text of Meta's marketing opt-out quick-reply button
    ),
    "es": ("PARAR", "CANCELAR", "DETENER", "BAJA", "DAR DE BAJA", "DESUSCRIBIR"),
    "pt": ("PARAR", "SAIR", "CANCELAR", "DESCADASTRAR", "DESINSCREVER"),
    "fr": ("ARRÊT", "ARRÊTER", "DÉSABONNER", "DÉSINSCRIRE"),
    "de": ("STOPP", "ABMELDEN", "ABBESTELLEN"),
    "it": ("ANNULLA", "DISISCRIVIMI", "CANCELLAMI"),
    "id": ("BERHENTI", "BERHENTI LANGGANAN"),  # Indonesian / Malay
    "hi": ("रोकें", "रोको", "बंद करो", "बंद करें", "बंद"),
    "ar": ("توقف", "إلغاء", "الغاء"),
}

OPT_IN_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("START", "SUBSCRIBE", "UNSTOP", "OPT IN", "OPTIN", "RESUME"),
    "es": ("COMENZAR", "SUSCRIBIR"),
    "pt": ("INICIAR", "ASSINAR"),
    "fr": ("DÉMARRER", "ABONNER"),
    "de": ("ANMELDEN",),
    "it": ("ISCRIVIMI",),
    "id": ("MULAI",),
    "hi": ("शुरू", "शुरू करें", "शुरू करो"),
}

# Longer texts are never a keyword: skip folding whole paragraphs.
MAX_KEYWORD_MESSAGE_LENGTH = 64

# Latin-script combining diacritics ("accents"): the only combining marks folding removes.
_ACCENT_RANGES = ((0x0300, 0x036F), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF), (0xFE20, 0xFE2F))
# Invisible joiners and emoji presentation selectors: typed (or pasted) without meaning here.
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\ufe0e", "\ufe0f"}


def _is_accent(ch: str) -> bool:
    code = ord(ch)
    return any(low <= code <= high for low, high in _ACCENT_RANGES)


def _is_edge_noise(ch: str) -> bool:
    """Trimmed from the ends: whitespace, punctuation (incl. the Devanagari danda), symbols, controls."""
    return ch.isspace() or unicodedata.category(ch)[0] in ("P", "S", "Z", "C")


def fold(text: str) -> str:
    """The comparable form of a message or a keyword (see the module docstring)."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(ch for ch in decomposed if not _is_accent(ch) and ch not in _INVISIBLE)
    folded = unicodedata.normalize("NFC", kept).casefold()
    start, end = 0, len(folded)
    while start < end and _is_edge_noise(folded[start]):
        start += 1
    while end > start and _is_edge_noise(folded[end - 1]):
        end -= 1
    return " ".join(folded[start:end].split())


@lru_cache(maxsize=1)
def _builtin() -> tuple[frozenset[str], frozenset[str]]:
    opt_out = frozenset(fold(word) for words in OPT_OUT_WORDS.values() for word in words)
    opt_in = frozenset(fold(word) for words in OPT_IN_WORDS.values() for word in words)
    return opt_out, opt_in


def _folded(words: Iterable[str]) -> set[str]:
    return {folded for folded in (fold(str(word)) for word in words or ()) if folded}


# A tapped button is the business's own wording: "Cancel" on an appointment reminder cancels the
# appointment, not the subscription. Only these built-in words count when they come from a button
# (plus the workspace's own extra words, which it chose knowing its buttons).
BUTTON_OPT_OUT_WORDS = ("STOP", "STOP PROMOTIONS", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "OPT OUT")
BUTTON_OPT_IN_WORDS = ("START", "SUBSCRIBE", "RESUME PROMOTIONS", "OPT IN")


def match_keyword(
    text: str, *, extra_opt_out: Iterable[str] = (), extra_opt_in: Iterable[str] = (), from_button: bool = False
) -> Match | None:
    """ "opt_out" or "opt_in" when the whole message is such a keyword (built-in or the workspace's
    extra words), else None. Opt-out is checked first. `from_button`: the text is a tapped button's
    title, where only the unambiguous built-in words count."""
    if not text or len(text) > MAX_KEYWORD_MESSAGE_LENGTH * 4:
        return None
    message = fold(text)
    if not message or len(message) > MAX_KEYWORD_MESSAGE_LENGTH:
        return None
    builtin_out, builtin_in = (
        (frozenset(_folded(BUTTON_OPT_OUT_WORDS)), frozenset(_folded(BUTTON_OPT_IN_WORDS)))
        if from_button
        else _builtin()
    )
    if message in builtin_out or message in _folded(extra_opt_out):
        return OPT_OUT
    if message in builtin_in or message in _folded(extra_opt_in):
        return OPT_IN
    return None


__all__ = [
    "BUTTON_OPT_IN_WORDS",
    "BUTTON_OPT_OUT_WORDS",
    "OPT_IN",
    "OPT_IN_WORDS",
    "OPT_OUT",
    "OPT_OUT_WORDS",
    "fold",
    "match_keyword",
]
