"""Shapes every inbox API output shares: people, teams and labels by name, a customer's number
masked (the contact's `phone_hint`; never the full number), a message's one-line preview."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rest_framework import serializers

from contacts.phones import mask
from inbox.models import Conversation, Label, Message

PREVIEW_MAX = 160
MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
_MEDIA_WORDS = {"image": "Photo", "video": "Video", "audio": "Audio", "document": "Document", "sticker": "Sticker"}


def person_name(user: Any) -> str:
    return (user.get_full_name() or user.email) if user is not None else ""


def iso(at: datetime) -> str:
    """A time for a query string: UTC with a `Z` (no `+` for a URL to turn into a space)."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def masked_number(conversation: Conversation) -> str:
    """The contact's masked number, else the customer's masked from the conversation; "" for a
    customer behind a username (Meta gives no number)."""
    contact = conversation.contact
    if contact is not None and contact.phone_hint:
        return contact.phone_hint
    wa_id = conversation.customer_wa_id.reveal() if conversation.customer_wa_id else ""
    return mask("+" + wa_id) if wa_id else ""


def message_preview(message: Message) -> str:
    """One line for the list: the text, a caption or what kind of message it is."""
    payload = message.payload or {}
    raw = payload.get(message.type)
    part: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if message.type == "text":
        text = message.body
    elif message.type in MEDIA_TYPES:
        text = part.get("caption") or part.get("filename") or _MEDIA_WORDS[message.type]
    elif message.type == "reaction":
        text = f"Reacted {part.get('emoji', '')}".strip()
    elif message.type == "template":
        text = f"Template: {part.get('name', '')}".strip()
    elif message.type == "interactive":
        reply = part.get("button_reply") or part.get("list_reply") or {}
        text = reply.get("title") or (part.get("body") or {}).get("text") or "Interactive message"
    elif message.type == "button":
        text = part.get("text") or "Button"
    elif message.type == "location":
        text = part.get("name") or "Location"
    elif message.type == "contacts":
        text = "Contact card"
    else:
        text = message.type.replace("_", " ").capitalize()
    text = " ".join(str(text).split())
    return text if len(text) <= PREVIEW_MAX else text[: PREVIEW_MAX - 1] + "…"


# --- people, teams, labels


class PersonOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.SerializerMethodField()

    def get_name(self, user: Any) -> str:
        return person_name(user)


class TeamRefOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()


class LabelOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    color = serializers.CharField(help_text=f"One of {', '.join(Label.Color.values)}")
