"""One stored message as the timeline shows it, whatever its type: text (WhatsApp formatting),
media, location, shared contact cards (read from the sealed payload), interactive and button
replies, templates as sent, orders, system notices, reactions, edits, deletions and the types
WhatsApp could not deliver — and who sent it when it is ours (`origin_label`: the one place that
names a sender; the AI auto-reply adds its origin there)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.safestring import SafeString

from aerostic.core.logging import mask_phones
from inbox.formatting import interactive_title, preview_text, wa_format
from inbox.models import Message
from inbox.payloads import sealed_parts
from inbox.views.common import Moment, person_name
from whatsapp.models import OutboundMessage

MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")

# Who sent an outbound message, by the send ledger's origin. A message with no ledger row was sent
# outside Aerostic (the WhatsApp Business app on a shared number, or a history sync).
ORIGIN_LABELS = {
    OutboundMessage.Origin.INBOX: "Inbox",
    OutboundMessage.Origin.CAMPAIGN: "Campaign",
    OutboundMessage.Origin.API: "API",
    OutboundMessage.Origin.KEYWORD_REPLY: "Automatic reply",
    OutboundMessage.Origin.AI: "AI",
}
OUTSIDE = "WhatsApp Business app"


def origin_label(origin: str, user: Any = None) -> str:
    """Who sent it, as the timeline names them: "Ana · Inbox", "Campaign", "API" (the AI/human
    boundary: an AI origin gets its label here)."""
    label = ORIGIN_LABELS.get(origin, OUTSIDE) if origin else OUTSIDE
    name = person_name(user)
    return f"{name} · {label}" if name else label


def part(value: Any, key: str) -> dict[str, Any]:
    """`value[key]` when both are objects, else {} (Meta's JSON may hold anything)."""
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, dict) else {}


_CONTENT_TEMPLATES = {
    kind: f"inbox/bubble/{kind}.html"
    for kind in (
        "deleted",
        "text",
        "media",
        "location",
        "contacts",
        "interactive",
        "button",
        "template",
        "order",
        "system",
        "reaction",
        "edit",
        "revoke",
        "unsupported",
    )
} | {"unknown": "inbox/bubble/unsupported.html"}


@dataclass
class Bubble:
    """One stored message, ready for inbox/_message.html."""

    message: Message
    kind: str  # which block of the template renders it
    outbound: bool
    html: SafeString | str = ""
    sender: str = ""
    media: dict[str, Any] = field(default_factory=dict)
    location: dict[str, Any] = field(default_factory=dict)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    title: str = ""
    description: str = ""
    template: dict[str, Any] = field(default_factory=dict)
    order: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] = field(default_factory=dict)
    quote: dict[str, str] = field(default_factory=dict)
    referral: str = ""
    reactions: list[dict[str, str]] = field(default_factory=list)
    edited: bool = False
    deleted: bool = False
    can_retry: bool = False
    at: Moment | None = None  # when it was sent or received
    ai: bool = False  # the AI sent it (the sender line says how sure, from which answer)

    @property
    def content_template(self) -> str:
        """The block that renders this kind (inbox/bubble/*.html): one include, not a chain of tests."""
        return _CONTENT_TEMPLATES.get(self.kind, "inbox/bubble/other.html")

    @property
    def ticks(self) -> str:
        return self.message.status if self.outbound else ""


def fill_content(bubble: Bubble, message: Message, payload: dict[str, Any]) -> None:
    """What the bubble shows of the message, by its type."""
    kind = message.type
    if kind == "text":
        bubble.html = wa_format(message.body or str(part(payload, "text").get("body") or ""))
    elif kind in MEDIA_TYPES:
        media = part(payload, kind)
        bubble.kind = "media"
        bubble.media = {
            "type": kind,
            "mime": str(media.get("mime_type") or ""),
            "filename": str(media.get("filename") or ""),
            "voice": bool(media.get("voice")),
            "label": preview_text(type=kind, body="", payload={kind: {"voice": media.get("voice")}}),
        }
        bubble.html = wa_format(str(media.get("caption") or ""))
    elif kind == "location":
        bubble.location = location_of(part(payload, "location"))
    elif kind == "contacts":
        bubble.contacts = [contact_card(card) for card in sealed_parts(message).get("contacts") or []]
    elif kind == "interactive":
        interactive = part(payload, "interactive")
        sub = str(interactive.get("type") or "")
        bubble.title = interactive_title(payload)
        bubble.description = str(part(interactive, sub).get("description") or "")
        if outbound_text := str(part(interactive, "body").get("text") or ""):
            bubble.html = wa_format(outbound_text)
    elif kind == "button":
        bubble.title = str(part(payload, "button").get("text") or part(payload, "button").get("payload") or "")
    elif kind == "template":
        bubble.template = template_of(part(payload, "template"))
    elif kind == "order":
        order = part(payload, "order")
        items = [item for item in order.get("product_items") or [] if isinstance(item, dict)]
        bubble.order = {"text": str(order.get("text") or ""), "items": items}
    elif kind == "system":
        sealed = part(sealed_parts(message), "system")
        # the notice names numbers (a changed number): shown masked, like every number in lists
        bubble.html = mask_phones(str(sealed.get("body") or "")) or "WhatsApp sent a system notice."
    elif kind == "reaction":
        reaction = part(payload, "reaction")
        bubble.title = str(reaction.get("emoji") or "")
    elif kind == "edit":
        edited = part(part(payload, "edit"), "message")
        new_text = part(edited, "text").get("body") or part(edited, "image").get("caption") or ""
        bubble.html = wa_format(str(new_text))
    elif kind in ("revoke", "unsupported", "unknown"):
        pass
    else:
        bubble.kind = "other"
        bubble.title = preview_text(type=kind, body=message.body, payload=payload)


def location_of(location: dict[str, Any]) -> dict[str, Any]:
    lat, lon = location.get("latitude"), location.get("longitude")
    found: dict[str, Any] = {
        "name": str(location.get("name") or ""),
        "address": str(location.get("address") or ""),
        "url": "",
    }
    try:
        lat_f, lon_f = float(lat), float(lon)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return found
    found["url"] = f"https://www.openstreetmap.org/?mlat={lat_f:.6f}&mlon={lon_f:.6f}#map=17/{lat_f:.6f}/{lon_f:.6f}"
    found["coordinates"] = f"{lat_f:.5f}, {lon_f:.5f}"
    return found


def contact_card(card: Any) -> dict[str, Any]:
    card = card if isinstance(card, dict) else {}
    name = part(card, "name")
    full = str(name.get("formatted_name") or " ".join(str(name.get(k) or "") for k in ("first_name", "last_name")))
    phones = [
        {"phone": str(p.get("phone") or p.get("wa_id") or ""), "type": str(p.get("type") or "").title()}
        for p in card.get("phones") or []
        if isinstance(p, dict)
    ]
    emails = [str(e.get("email") or "") for e in card.get("emails") or [] if isinstance(e, dict)]
    return {
        "name": full.strip() or "Contact",
        "org": str(part(card, "org").get("company") or ""),
        "phones": phones,
        "emails": [e for e in emails if e],
    }


def template_of(template: dict[str, Any]) -> dict[str, Any]:
    parameters: list[str] = []
    for component in template.get("components") or []:
        if not isinstance(component, dict):
            continue
        for parameter in component.get("parameters") or []:
            if not isinstance(parameter, dict):
                continue
            kind = str(parameter.get("type") or "")
            value = parameter.get(kind)
            if kind == "text":
                parameters.append(str(value or ""))
            elif kind == "coupon_code":
                parameters.append(f"Code {value}")
            elif isinstance(value, dict):
                parameters.append(str(value.get("filename") or value.get("name") or f"[{kind.title()}]"))
            else:
                parameters.append(f"[{kind.title()}]")
    return {
        "name": str(template.get("name") or ""),
        "language": str(part(template, "language").get("code") or ""),
        "parameters": parameters,
    }


# --- sends on their way, activity
