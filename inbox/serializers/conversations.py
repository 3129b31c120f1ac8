"""The conversation list, one conversation and what agents send to act on it.

Outputs that need more than the row (its labels and last message) read them from the serializer's
context, filled by the view with one query per page."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inbox.models import Conversation, Message
from inbox.replies import TEXT_MAX, window_open
from inbox.selectors import MAX_PAGE_SIZE, PAGE_SIZE, STATES, VIEWS
from inbox.serializers.common import LabelOutput, PersonOutput, TeamRefOutput, masked_number, message_preview

# --- the list


class ConversationListQuery(serializers.Serializer):
    view = serializers.ChoiceField(choices=VIEWS, default="all", help_text="mine, unassigned, my teams' or all")
    state = serializers.ChoiceField(choices=STATES, default="open")
    phone_number_id = serializers.IntegerField(required=False, help_text="Our id of the business number")
    label_id = serializers.IntegerField(required=False)
    team_id = serializers.IntegerField(required=False)
    unread = serializers.BooleanField(default=False, help_text="Only conversations with unread customer messages")
    window_open = serializers.BooleanField(default=False, help_text="Only customers whose 24-hour window is open")
    q = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=100,
        help_text="A full number, or words of names and messages",
    )
    cursor = serializers.CharField(required=False, default="", allow_blank=True, max_length=200)
    limit = serializers.IntegerField(default=PAGE_SIZE, min_value=1, max_value=MAX_PAGE_SIZE)


class LastMessageOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    direction = serializers.CharField()
    type = serializers.CharField()
    preview = serializers.SerializerMethodField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_preview(self, message: Message) -> str:
        return message_preview(message)


class ConversationOutput(serializers.Serializer):
    """A row of the list; context: `labels` {conversation id: [Label]}, `previews` {id: Message}."""

    id = serializers.IntegerField(source="pk")
    customer_name = serializers.CharField()
    customer_number = serializers.SerializerMethodField(help_text="Masked, e.g. +91 98••••21")
    contact_id = serializers.IntegerField(allow_null=True)
    phone_number_id = serializers.IntegerField()
    status = serializers.CharField(help_text=f"One of {', '.join(Conversation.Status.values)}")
    snoozed_until = serializers.DateTimeField(allow_null=True)
    assignee = PersonOutput(allow_null=True)
    team = TeamRefOutput(allow_null=True)
    labels = serializers.SerializerMethodField()
    unread_count = serializers.IntegerField()
    last_message_at = serializers.DateTimeField(allow_null=True)
    window_expires_at = serializers.DateTimeField(allow_null=True)
    window_open = serializers.SerializerMethodField()
    last_message = serializers.SerializerMethodField()

    def get_customer_number(self, conversation: Conversation) -> str:
        return masked_number(conversation)

    @extend_schema_field(LabelOutput(many=True))
    def get_labels(self, conversation: Conversation) -> Any:
        return LabelOutput(self.context.get("labels", {}).get(conversation.pk, []), many=True).data

    def get_window_open(self, conversation: Conversation) -> bool:
        return window_open(conversation)

    @extend_schema_field(LastMessageOutput(allow_null=True))
    def get_last_message(self, conversation: Conversation) -> dict[str, Any] | None:
        message = self.context.get("previews", {}).get(conversation.pk)
        return LastMessageOutput(message).data if message is not None else None


class ConversationPageOutput(serializers.Serializer):
    results = ConversationOutput(many=True)
    next_cursor = serializers.CharField(
        allow_null=True, help_text="Pass as `cursor` for the next page; null at the end"
    )


class UnreadCountsOutput(serializers.Serializer):
    """Unresolved conversations with unread messages per view, each counted up to 100 (100 means
    "100 or more"; the portal shows 99+)."""

    mine = serializers.IntegerField()
    unassigned = serializers.IntegerField()
    team = serializers.IntegerField()
    all = serializers.IntegerField()


class ContactSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    phone_hint = serializers.CharField()
    country = serializers.CharField()
    language = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    consent_state = serializers.CharField()
    is_erased = serializers.SerializerMethodField()

    def get_is_erased(self, contact: Any) -> bool:
        return contact.erased_at is not None


class ConversationDetailOutput(ConversationOutput):
    phone_number = serializers.SerializerMethodField()
    contact = ContactSummaryOutput(allow_null=True)
    ai_taken_over_at = serializers.DateTimeField(
        source="ai_paused_at",
        allow_null=True,
        help_text="When a person took over from the AI (null: the AI may answer)",
    )

    @extend_schema_field({"type": "object", "properties": {"id": {"type": "integer"}, "display": {"type": "string"}}})
    def get_phone_number(self, conversation: Conversation) -> dict[str, Any]:
        phone = conversation.phone_number
        return {"id": phone.pk, "display": phone.display_phone_number}


# --- actions


class ReplyInput(serializers.Serializer):
    text = serializers.CharField(max_length=TEXT_MAX, required=False, allow_blank=True, trim_whitespace=False)
    template_id = serializers.IntegerField(required=False)
    values = serializers.DictField(required=False, default=dict, help_text="The template's parameter values")

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if bool((data.get("text") or "").strip()) == ("template_id" in data):
            raise serializers.ValidationError("Send either `text` or `template_id`.")
        return data


class RetryInput(serializers.Serializer):
    outbound_id = serializers.IntegerField(required=False, help_text="A send refused or failed before Meta took it")
    message_id = serializers.IntegerField(required=False, help_text="A message Meta failed after taking it")

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if ("outbound_id" in data) == ("message_id" in data):
            raise serializers.ValidationError("Name either `outbound_id` or `message_id`.")
        return data


class AssignInput(serializers.Serializer):
    assignee_id = serializers.IntegerField(allow_null=True, help_text="A user id; null unassigns")


class TeamAssignInput(serializers.Serializer):
    team_id = serializers.IntegerField(allow_null=True, help_text="null: no team")
    round_robin = serializers.BooleanField(default=False, help_text="Also assign to the team's next available agent")


class StatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=Conversation.Status.choices)
    snoozed_until = serializers.DateTimeField(required=False, allow_null=True, help_text="Required to snooze")


class LabelsInput(serializers.Serializer):
    add = serializers.ListField(child=serializers.IntegerField(), required=False, default=list, max_length=50)
    remove = serializers.ListField(child=serializers.IntegerField(), required=False, default=list, max_length=50)


class NoteInput(serializers.Serializer):
    body = serializers.CharField(help_text="@name mentions notify teammates", trim_whitespace=False)
