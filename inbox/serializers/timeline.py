"""A conversation's timeline: messages (their payload names nobody: inbox.payloads; the sealed parts,
shared contact cards and system notices, are not part of the API), sends on their way, activity."""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inbox.models import ConversationEvent, Message
from inbox.selectors import MAX_TIMELINE_SIZE, TIMELINE_SIZE
from inbox.serializers.common import MEDIA_TYPES, PersonOutput, message_preview
from whatsapp.models import OutboundMessage


class TimelineQuery(serializers.Serializer):
    before = serializers.DateTimeField(required=False, help_text="`next_before` of the previous page")
    limit = serializers.IntegerField(default=TIMELINE_SIZE, min_value=1, max_value=MAX_TIMELINE_SIZE)


class MediaOutput(serializers.Serializer):
    id = serializers.IntegerField(help_text="Our message id (the media route's key)")
    mime_type = serializers.CharField()
    url = serializers.CharField(allow_null=True, help_text="Where signed-in members fetch it; null when not served")


class QuotedOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    direction = serializers.CharField()
    type = serializers.CharField()
    preview = serializers.SerializerMethodField()

    def get_preview(self, message: Message) -> str:
        return message_preview(message)


class TimelineMessageOutput(serializers.Serializer):
    """context: `media_types` {Meta media id: mime type} of the media stored with us, `quoted`
    {wamid: Message} of the messages replies and reactions point at."""

    id = serializers.IntegerField(source="pk")
    direction = serializers.CharField()
    type = serializers.CharField()
    text = serializers.CharField(source="body")
    payload = serializers.JSONField(help_text="Meta's message object without numbers or ids of people")
    status = serializers.CharField()
    sent_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    read_at = serializers.DateTimeField(allow_null=True)
    failed_at = serializers.DateTimeField(allow_null=True)
    error_code = serializers.IntegerField(allow_null=True)
    error_title = serializers.CharField()
    created_at = serializers.DateTimeField()
    media = serializers.SerializerMethodField()
    quoted = serializers.SerializerMethodField()

    @extend_schema_field(MediaOutput(allow_null=True))
    def get_media(self, message: Message) -> dict[str, Any] | None:
        if message.type not in MEDIA_TYPES:
            return None
        part = (message.payload or {}).get(message.type) or {}
        mime_type = part.get("mime_type") or self.context.get("media_types", {}).get(str(part.get("id", ""))) or ""
        try:
            url: str | None = reverse("inbox:media", kwargs={"message_id": message.pk})
        except NoReverseMatch:  # the media route is not part of this deployment yet
            url = None
        return {"id": message.pk, "mime_type": mime_type, "url": url}

    @extend_schema_field(QuotedOutput(allow_null=True))
    def get_quoted(self, message: Message) -> dict[str, Any] | None:
        payload = message.payload or {}
        wamid = (payload.get("context") or {}).get("id") or (payload.get("reaction") or {}).get("message_id")
        quoted = self.context.get("quoted", {}).get(str(wamid)) if wamid else None
        return QuotedOutput(quoted).data if quoted is not None else None


class TimelineOutboundOutput(serializers.Serializer):
    """A send not stored as a message yet: queued, on its way, or refused / failed before Meta took it."""

    outbound_id = serializers.IntegerField(source="pk")
    state = serializers.CharField()
    type = serializers.SerializerMethodField()
    text = serializers.SerializerMethodField()
    hold_reason = serializers.CharField()
    error_code = serializers.IntegerField(allow_null=True)
    error_detail = serializers.CharField()
    created_by = PersonOutput(allow_null=True)
    created_at = serializers.DateTimeField()

    def get_type(self, outbound: OutboundMessage) -> str:
        return str((outbound.content or {}).get("type", ""))

    def get_text(self, outbound: OutboundMessage) -> str:
        content = outbound.content or {}
        raw = content.get(str(content.get("type")))
        part: dict[str, Any] = raw if isinstance(raw, dict) else {}
        return str(part.get("body") or part.get("caption") or part.get("name") or "")


class EventOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    kind = serializers.CharField(help_text=f"One of {', '.join(ConversationEvent.Kind.values)}")
    actor = PersonOutput(allow_null=True)
    body = serializers.CharField(help_text="A note's text")
    created_at = serializers.DateTimeField()

    def get_fields(self) -> dict[str, serializers.Field]:
        # `data` names the serializer's own output too: added here rather than declared beside the others.
        data = serializers.JSONField(help_text="What changed (names of the assignee, team, label; a note's mentions)")
        return {**super().get_fields(), "data": data}


class TimelineEntryOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["message", "outbound", "event"])
    at = serializers.DateTimeField()
    message = serializers.SerializerMethodField()
    outbound = serializers.SerializerMethodField()
    event = serializers.SerializerMethodField()

    @extend_schema_field(TimelineMessageOutput(allow_null=True))
    def get_message(self, entry: Any) -> dict[str, Any] | None:
        return TimelineMessageOutput(entry.item, context=self.context).data if entry.kind == "message" else None

    @extend_schema_field(TimelineOutboundOutput(allow_null=True))
    def get_outbound(self, entry: Any) -> dict[str, Any] | None:
        return TimelineOutboundOutput(entry.item).data if entry.kind == "outbound" else None

    @extend_schema_field(EventOutput(allow_null=True))
    def get_event(self, entry: Any) -> dict[str, Any] | None:
        return EventOutput(entry.item).data if entry.kind == "event" else None


class TimelineOutput(serializers.Serializer):
    results = TimelineEntryOutput(many=True)
    next_before = serializers.CharField(
        allow_null=True, help_text="Pass as `before` for older entries; null at the start"
    )
