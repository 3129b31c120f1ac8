"""Meta's template limits (categories, languages, component and button types, lengths), the
`{{variable}}` patterns, the `Problem` every check reports, and the small helpers the checks share."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
PARAMETER_FORMATS = ("POSITIONAL", "NAMED")
LANGUAGES: frozenset[str] = frozenset(
    {
        *("af", "sq", "ar", "az", "bn", "bg", "ca", "zh_CN", "zh_HK", "zh_TW", "hr", "cs", "da", "nl"),
        *("en", "en_GB", "en_US", "et", "fil", "fi", "fr", "ka", "de", "el", "gu", "ha", "he", "hi"),
        *("hu", "id", "ga", "it", "ja", "kn", "kk", "rw_RW", "ko", "ky_KG", "lo", "lv", "lt", "mk"),
        *("ms", "ml", "mr", "nb", "fa", "pl", "pt_BR", "pt_PT", "pa", "ro", "ru", "sr", "sk", "sl"),
        *("es", "es_AR", "es_ES", "es_MX", "sw", "sv", "ta", "te", "th", "tr", "uk", "ur", "uz", "vi", "zu"),
    }
)

COMPONENT_TYPES = ("HEADER", "BODY", "FOOTER", "BUTTONS")
HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION")
MEDIA_HEADER_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")
BUTTON_TYPES = ("QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE", "OTP")
OTP_TYPES = ("COPY_CODE", "ONE_TAP", "ZERO_TAP")
# Meta's per-type button limits; the total is capped separately at MAX_BUTTONS.
BUTTON_LIMITS = {"QUICK_REPLY": 10, "URL": 2, "PHONE_NUMBER": 1, "COPY_CODE": 1}

MAX_NAME = 512
MAX_HEADER_TEXT = 60
MAX_BODY_TEXT = 1024
MAX_FOOTER_TEXT = 60
MAX_BUTTONS = 10
MAX_BUTTON_TEXT = 25
MAX_URL = 2000
MAX_PHONE_NUMBER = 20
MAX_COUPON_CODE = 15

NAME_RE = re.compile(r"[a-z0-9_]+")
VARIABLE_RE = re.compile(r"\{\{([^{}]*)\}\}")
POSITIONAL_RE = re.compile(r"[1-9][0-9]*")
NAMED_RE = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Problem:
    """One thing to fix: `where` points at the part of the template, `message` is shown to the user as is."""

    where: str
    message: str


def variables_in(text: str) -> list[str]:
    """The names inside `{{…}}` in order of appearance, duplicates kept ("{{1}}" → "1")."""
    if not isinstance(text, str):
        return []
    return VARIABLE_RE.findall(text)


def show(value: Any) -> str:
    """A value quoted for a message, short enough to read."""
    text = repr(value) if not isinstance(value, str) else f"“{value}”"
    return text if len(text) <= 40 else text[:37] + "…"


def too_long(where: str, what: str, value: str, limit: int, problems: list[Problem]) -> None:
    if len(value) > limit:
        problems.append(Problem(where, f"{what} must be at most {limit} characters (it has {len(value)})."))


def text_of(component: dict, where: str, label: str, problems: list[Problem]) -> str | None:
    """The component's text, or None after reporting that it is missing or not text."""
    text = component.get("text")
    if text is None or text == "":
        problems.append(Problem(where, f"The {label} text is required."))
        return None
    if not isinstance(text, str):
        problems.append(Problem(where, f"The {label} text must be text."))
        return None
    if not text.strip():
        problems.append(Problem(where, f"The {label} text is required."))
        return None
    return text


def join_words(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
