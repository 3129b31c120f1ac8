"""How the inbox shows message text: WhatsApp's formatting as HTML (escaped first, so a customer's
text can never become markup) and the one-line preview of any message type (the list's rows,
quoted replies, reactions to older messages)."""

from __future__ import annotations

import re
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PREVIEW_LENGTH = 80

# ```monospace``` may span lines; the other markers hug their text, as WhatsApp requires.
_MONO = re.compile(r"```(.+?)```", re.DOTALL)
_URL = re.compile(r"\bhttps?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}"
_EMPHASIS = (
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])"), "strong"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])"), "em"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])"), "del"),
)
_MENTION = re.compile(r"(?<![\w@])@([\w.+-]*\w)")


def wa_format(text: str) -> SafeString:
    """The text as HTML: every piece escaped, then *bold*, _italic_, ~strike~, ```mono``` and
    clickable links (new tab, no opener, no referrer). Newlines are kept by the stylesheet
    (white-space: pre-wrap)."""
    text = text or ""
    parts: list[str] = []
    last = 0
    for match in _MONO.finditer(text):
        parts.append(_inline(text[last : match.start()]))
        parts.append(f"<code>{escape(match.group(1))}</code>")
        last = match.end()
    parts.append(_inline(text[last:]))
    return mark_safe("".join(parts))  # noqa: S308 - escaped pieces and our own tags


def _inline(raw: str) -> str:
    """Links and emphasis; a link's address is never touched by emphasis."""
    parts: list[str] = []
    last = 0
    for match in _URL.finditer(raw):
        url = match.group(0).rstrip(_TRAILING)  # "see https://x.com." ends the link before the dot
        if url.endswith("://"):
            continue
        parts.append(_emphasis(str(escape(raw[last : match.start()]))))
        safe = escape(url)
        parts.append(f'<a href="{safe}" target="_blank" rel="noopener noreferrer nofollow">{safe}</a>')
        last = match.start() + len(url)
    parts.append(_emphasis(str(escape(raw[last:]))))
    return "".join(parts)


def _emphasis(escaped: str) -> str:
    for pattern, tag in _EMPHASIS:
        escaped = pattern.sub(rf"<{tag}>\1</{tag}>", escaped)
    return escaped


def note_format(text: str) -> SafeString:
    """A private note: escaped, with @mentions emphasised."""
    escaped = str(escape(text or ""))
    return mark_safe(_MENTION.sub(r'<span class="mention">@\1</span>', escaped))  # noqa: S308 - escaped first


def shorten(text: str, length: int = PREVIEW_LENGTH) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def _part(payload: dict[str, Any], key: str) -> dict[str, Any]:
    value = payload.get(key)
    return value if isinstance(value, dict) else {}


_MEDIA_LABELS = {
    "image": "📷 Photo",
    "video": "🎥 Video",
    "audio": "🎵 Audio",
    "sticker": "💟 Sticker",
}


def preview_text(*, type: str, body: str, payload: dict[str, Any], status: str = "") -> str:  # noqa: A002
    """One line saying what a message is, for any type Meta sends or we send."""
    if status == "deleted":
        return "🚫 Message deleted"
    payload = payload if isinstance(payload, dict) else {}
    if type == "text":
        return shorten(body or str(_part(payload, "text").get("body", "")))
    if type in _MEDIA_LABELS:
        media = _part(payload, type)
        label = "🎤 Voice message" if type == "audio" and media.get("voice") else _MEDIA_LABELS[type]
        caption = str(media.get("caption") or "")
        return f"{label} · {shorten(caption)}" if caption else label
    if type == "document":
        media = _part(payload, "document")
        name = str(media.get("filename") or media.get("caption") or "Document")
        return f"📄 {shorten(name)}"
    if type == "location":
        location = _part(payload, "location")
        name = str(location.get("name") or location.get("address") or "")
        return f"📍 {shorten(name)}" if name else "📍 Location"
    if type == "contacts":
        return "👤 Contact card"
    if type == "template":
        template = _part(payload, "template")
        return f"Template: {template.get('name', '')}".rstrip(": ")
    if type == "interactive":
        return shorten(interactive_title(payload) or "Interactive message")
    if type == "button":
        return shorten(str(_part(payload, "button").get("text") or "Button"))
    if type == "reaction":
        emoji = str(_part(payload, "reaction").get("emoji") or "")
        return f"Reacted {emoji}" if emoji else "Removed a reaction"
    if type == "order":
        items = _part(payload, "order").get("product_items")
        count = len(items) if isinstance(items, list) else 0
        return f"🛒 Order ({count} item{'s' if count != 1 else ''})"
    if type == "system":
        return "System notice"
    if type == "revoke":
        return "🚫 Message deleted"
    if type == "edit":
        edited = _part(_part(payload, "edit"), "message")
        text = str(_part(edited, "text").get("body") or "")
        return f"✏️ {shorten(text)}" if text else "✏️ Edited a message"
    if type in ("unsupported", "unknown"):
        return "Unsupported message"
    return shorten(body) if body else type.replace("_", " ").capitalize()


def interactive_title(payload: dict[str, Any]) -> str:
    """The customer's choice in a reply to our buttons or list (or our own interactive's text)."""
    interactive = _part(payload, "interactive")
    kind = str(interactive.get("type") or "")
    if kind in ("button_reply", "list_reply"):
        return str(_part(interactive, kind).get("title") or "")
    if kind == "nfm_reply":
        return str(_part(interactive, "nfm_reply").get("body") or "Form sent")
    return str(_part(interactive, "body").get("text") or "")
