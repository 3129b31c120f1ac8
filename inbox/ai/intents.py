"""Blocked intents: topics the AI never answers but hands over to a person (a payment problem, a
refund, legal or medical matters, a complaint, a request for a human), recognised by keyword
cues in English, Hinglish (Latin script) and Hindi (Devanagari), plus the workspace's own list."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence

from inbox.ai.ranking import normalise

INTENTS: dict[str, str] = {
    "payments": "a payment problem",
    "refunds": "a refund",
    "legal": "a legal matter",
    "medical": "a medical question",
    "complaints": "a complaint",
    "human": "talking to a person",
}
# What a match on the workspace's own blocked words is reported as.
WORKSPACE_INTENT = "workspace"
WORKSPACE_LABEL = "a topic on the workspace's blocked list"

# A cue is a phrase of normalised words. Words of 5 letters or more also match as prefixes
# ("refund" matches "refunded", "deduct" "deducted"), so cues are stems where that is safe; a "*"
# stands for up to three words in between ("charged * twice": "charged me twice"). The cues name a
# problem with money rather than the topic: "UPI payment options" is a question the knowledge base
# answers, "my UPI payment failed" is not. Checked in this order: the first intent that matches
# wins, the rarer and more serious topics first.
CUES: dict[str, tuple[str, ...]] = {
    "legal": (
        # English
        "legal action", "legal notice", "legal case", "lawyer", "advocate", "attorney", "sue", "sue you",
        "suing", "lawsuit", "consumer court", "consumer forum", "go to court", "take you to court",
        "court case", "file a case", "file case", "police complaint", "police case", "report to police",
        "file an fir", "file fir", "cyber cell", "cybercrime", "legal",
        # Hinglish
        "case karunga", "case karungi", "case kar dunga", "case kar dungi", "court jaunga", "court jaungi",
        "vakil", "wakil", "kanooni", "police me complaint", "police mein complaint", "fir karunga",
        # Hindi
        "कानूनी", "वकील", "कोर्ट", "अदालत", "मुकदमा", "केस करूंगा", "केस करूंगी", "पुलिस", "उपभोक्ता फोरम",
        "लीगल नोटिस", "नोटिस भेज",
    ),
    "medical": (
        "allergy", "allergic", "rash", "rashes", "itch", "itching", "itchy", "skin irritation", "skin reaction",
        "skin infection", "skin problem", "eczema", "dermatitis", "psoriasis", "doctor", "hospital",
        "medical", "medicine", "medication", "prescription", "asthma", "breathing problem", "swelling",
        "swollen", "blisters", "infection", "injury", "injured", "pregnancy safe", "safe during pregnancy",
        "safe for pregnant", "nickel allergy",
        "khujli", "khujali", "daane", "dane nikal", "allergy ho", "dawai", "dawa", "davai",
        "एलर्जी", "खुजली", "डॉक्टर", "डाक्टर", "दवा", "दवाई", "इलाज", "त्वचा", "चकत्ते", "दाने", "अस्पताल",
        "बीमार", "सूजन",
    ),
    "payments": (
        "money deduct", "amount deduct", "money * deducted", "amount * deducted", "deducted twice",
        "deducted but", "got deducted", "money debit", "amount debit", "debited but", "debited twice",
        "got debited", "charged twice", "charged * twice", "double charg", "double payment", "double deduct",
        "paid twice", "payment failed", "payment * failed", "payment fail", "failed payment",
        "payment declined", "payment decline", "transaction failed", "transaction * failed",
        "failed transaction", "transaction declined", "payment stuck", "payment pending", "payment * pending",
        "payment not received", "payment not reflect", "payment not showing", "payment not going",
        "payment not done", "payment problem", "payment issue", "payment error", "upi failed", "upi fail",
        "upi error", "upi pending", "card declined", "card * charged", "card charged", "overcharged",
        "charged more than", "wrong amount", "unauthori", "chargeback",
        "payment link", "pay the balance", "pay balance", "balance payment", "remaining amount",
        "remaining balance", "pending amount", "pay the remaining", "where is my money",
        "paise kat", "paisa kat", "paise cut", "paisa cut", "amount kat", "amount cut", "paise katt",
        "do baar paise", "do baar kat", "do baar payment", "double paise", "payment fail ho",
        "payment nahi hua", "payment nhi hua", "payment atak",
        "payment ruk", "paise nahi aaye", "paisa nahi aaya", "bacha hua amount", "baaki amount",
        "baki amount", "baaki paise", "baki paise",
        "पैसे कट", "पैसा कट", "रुपये कट", "अमाउंट कट", "पेमेंट फेल", "पेमेंट नहीं हुआ", "पेमेंट अटक",
        "भुगतान विफल", "भुगतान नहीं हुआ", "दो बार पैसे", "दो बार कट", "डेबिट हो", "बाकी पैसे", "बाकी रकम", "बकाया",
    ),
    "refunds": (
        "refund", "refnd", "refud", "rifund", "refunt", "money back", "my money * back", "return my money",
        "reimburse", "cashback not", "return and refund",
        "paise wapas", "paisa wapas", "paise vapas", "paisa vapas", "paise waapas", "paise wapis",
        "paisa wapis", "paise lautao", "paisa lautao",
        "रिफंड", "रीफंड", "पैसे वापस", "पैसा वापस", "रकम वापस", "धनवापसी",
    ),
    "complaints": (
        "complain", "worst", "pathetic", "disgusting", "horrible", "terrible", "useless service",
        "bad service", "poor service", "very bad", "very poor", "bad experience", "poor quality",
        "cheap quality", "fed up", "frustrat", "disappoint", "unacceptable", "unprofessional", "rude",
        "misbehav", "cheated", "cheating", "cheaters", "fraud", "scam", "escalate", "no response",
        "not responding", "nobody respond", "no one respond", "nobody replies", "no one replies",
        "no reply", "ignoring me", "never again", "shame on",
        "bakwas", "bekar", "bekaar", "ghatiya", "dhokha", "dhoka", "bahut bura", "bura experience",
        "koi jawab nahi", "reply nahi", "shikayat",
        "शिकायत", "घटिया", "बकवास", "धोखा", "बहुत बुरा", "बेकार", "परेशान", "निराश", "फ्रॉड", "जवाब नहीं",
    ),
    "human": (
        "human", "real person", "live person", "actual person", "talk to someone", "speak to someone",
        "talk to somebody", "speak to somebody", "talk to a person", "speak to a person", "talk to agent",
        "talk to an agent", "speak to an agent", "speak to agent", "live agent", "customer care executive",
        "executive", "representative", "manager", "supervisor", "connect me", "transfer me", "call me",
        "call back", "callback", "call you", "can i call", "number to call", "contact number",
        "customer care number", "helpline", "toll free", "your phone number", "your number",
        "talk * person", "speak * person", "talk * someone", "not a bot", "are you a bot", "stop the bot",
        "no bot", "robot",
        "kisi se baat", "kisi insaan", "insaan se", "insan se", "baat karni", "baat karna", "baat karwa",
        "baat karao", "call karo", "call kijiye", "call kar", "phone karo", "phone kijiye", "agent se",
        "executive se", "customer care se", "aapka number",
        "किसी से बात", "इंसान से", "व्यक्ति से बात", "बात करनी", "बात करना", "बात करवा", "बात कराइए", "कॉल करें",
        "कॉल कीजिए", "कॉल करो", "फोन करें", "फोन कीजिए", "हेल्पलाइन", "कस्टमर केयर नंबर", "आपका नंबर",
        "एजेंट",
    ),
}  # fmt: skip


def blocked_intent(message: str, extra: Mapping[str, Sequence[str]] | Sequence[str] = ()) -> str:
    """The blocked intent `message` is about ("" when none): a name of INTENTS, or
    WORKSPACE_INTENT for one of the workspace's own words or phrases (`extra`: a list of them, or
    intent name → its own list to report under that name)."""
    text = f" {normalise(message)} "
    if not text.strip():
        return ""
    for intent, pattern in _builtin_patterns().items():
        if pattern.search(text):
            return intent
    groups = extra.items() if isinstance(extra, Mapping) else [(WORKSPACE_INTENT, extra)]
    for intent, cues in groups:
        workspace_pattern = _pattern(tuple(cues))
        if workspace_pattern is not None and workspace_pattern.search(text):
            return intent
    return ""


def intent_label(intent: str) -> str:
    """The human label of an intent name ("talking to a person"); the name itself when unknown."""
    if intent == WORKSPACE_INTENT:
        return WORKSPACE_LABEL
    return INTENTS.get(intent, intent)


@functools.cache
def _builtin_patterns() -> dict[str, re.Pattern[str]]:
    return {intent: pattern for intent in INTENTS if (pattern := _pattern(CUES[intent])) is not None}


@functools.lru_cache(maxsize=256)
def _pattern(cues: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regular expression matching any of `cues` in normalised text padded with a space on
    each side (so that a space marks every word boundary, Devanagari included)."""
    alternatives = [alternative for cue in cues if (alternative := _cue_pattern(cue))]
    if not alternatives:
        return None
    return re.compile(" (?:" + "|".join(alternatives) + ") ")


def _cue_pattern(cue: str) -> str:
    segments = [normalise(segment).split() for segment in cue.split("*")]
    segments = [words for words in segments if words]
    return _GAP.join(" ".join(_word_pattern(word) for word in words) for words in segments)


# up to three words between the two sides of a "*"
_GAP = r"(?: \S+){0,3} "


def _word_pattern(word: str) -> str:
    # a stem of 5 or more letters also matches the longer words it begins ("refund" → "refunded")
    return re.escape(word) + (r"\S*" if len(word) >= 5 else "")
