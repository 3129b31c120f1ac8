"""The AI auto-reply's settings, knowledge base and test box. The chat model's key is write-only:
answers say whether one is stored (`chat_api_key_set`), never the key."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from inbox.ai.models import AISettings


class AISettingsOutput(serializers.Serializer):
    enabled = serializers.BooleanField()
    available = serializers.SerializerMethodField(
        help_text="The feature is rolled out to this workspace: until it is, the AI answers no customer."
    )
    phone_number_ids = serializers.SerializerMethodField(help_text="The numbers the AI answers on")
    provider = serializers.ChoiceField(choices=AISettings.Provider.choices)
    threshold = serializers.FloatField()
    daily_reply_cap = serializers.IntegerField()
    blocked_words = serializers.SerializerMethodField(help_text="The workspace's own topics for a person")
    builtin_blocked_topics = serializers.SerializerMethodField(help_text="Always handed over to a person")
    handover_team_id = serializers.IntegerField(allow_null=True)
    chat_base_url = serializers.CharField()
    chat_model = serializers.CharField()
    chat_api_key_set = serializers.SerializerMethodField(help_text="A key is stored (it is never shown)")
    knowledge_version = serializers.IntegerField(help_text="Moves on every knowledge base change")
    updated_at = serializers.DateTimeField(allow_null=True)

    def get_available(self, settings: AISettings) -> bool:
        return bool(self.context.get("available", False))

    def get_phone_number_ids(self, settings: AISettings) -> list[int]:
        return sorted(self.context.get("number_ids", ()))

    def get_blocked_words(self, settings: AISettings) -> list[str]:
        return [line for line in settings.blocked_words.splitlines() if line.strip()]

    def get_builtin_blocked_topics(self, settings: AISettings) -> list[str]:
        return list(self.context.get("builtin_topics", ()))

    def get_chat_api_key_set(self, settings: AISettings) -> bool:
        return settings.has_chat_api_key


class AISettingsInput(serializers.Serializer):
    """Each field given is changed; the others stay."""

    enabled = serializers.BooleanField(required=False)
    provider = serializers.CharField(
        required=False, help_text=f"One of {', '.join(AISettings.Provider.values)}", max_length=40
    )
    threshold = serializers.FloatField(required=False, help_text="0.05–0.99")
    daily_reply_cap = serializers.IntegerField(required=False, help_text="1–50 AI replies per conversation per day")
    blocked_words = serializers.ListField(
        child=serializers.CharField(max_length=200, allow_blank=True), required=False, max_length=500
    )
    handover_team_id = serializers.IntegerField(required=False, allow_null=True)
    chat_base_url = serializers.CharField(required=False, allow_blank=True, max_length=500)
    chat_model = serializers.CharField(required=False, allow_blank=True, max_length=200)
    chat_api_key = serializers.CharField(
        required=False, allow_blank=True, write_only=True, max_length=500, help_text="Write-only; empty keeps it"
    )
    clear_chat_api_key = serializers.BooleanField(required=False, help_text="True removes the stored key")

    def to_service(self) -> dict[str, Any]:
        values = dict(self.validated_data)
        if "blocked_words" in values:
            values["blocked_words"] = "\n".join(values["blocked_words"])
        return values


class AINumbersInput(serializers.Serializer):
    phone_number_ids = serializers.ListField(child=serializers.IntegerField(), max_length=500)


class AINumbersOutput(serializers.Serializer):
    phone_number_ids = serializers.ListField(
        child=serializers.IntegerField(), help_text="The numbers the AI answers on"
    )


class KnowledgeOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    language = serializers.CharField()
    question = serializers.CharField()
    alternates = serializers.ListField(child=serializers.CharField(), source="alternate_list")
    answer = serializers.CharField()
    enabled = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class KnowledgeInput(serializers.Serializer):
    language = serializers.CharField(required=False, max_length=40, help_text="e.g. en, hi, pt-br (default en)")
    question = serializers.CharField(max_length=2000, allow_blank=True)
    alternates = serializers.ListField(
        child=serializers.CharField(max_length=2000, allow_blank=True),
        required=False,
        max_length=100,
        help_text="Other ways customers ask it",
    )
    answer = serializers.CharField(max_length=10_000, allow_blank=True)
    enabled = serializers.BooleanField(required=False)


class KnowledgeImportInput(serializers.Serializer):
    file = serializers.FileField(help_text="CSV, UTF-8: language, question, alternates (separated by ' | '), answer")


class KnowledgeImportOutput(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()


class AITestInput(serializers.Serializer):
    question = serializers.CharField(max_length=1000)
    language = serializers.CharField(max_length=12, required=False, allow_blank=True, default="")


class AITestOutput(serializers.Serializer):
    would_answer = serializers.BooleanField(help_text="Every rule checked here passes")
    reply = serializers.CharField(help_text="What the AI would send ('' when nothing)")
    confidence = serializers.FloatField(allow_null=True, help_text="0–1; null when the provider was not asked")
    source_id = serializers.IntegerField(allow_null=True, help_text="The knowledge pair the reply comes from")
    source_question = serializers.CharField()
    intent = serializers.CharField(help_text="The blocked intent found ('' when none)")
    rule = serializers.CharField(help_text="The guardrail that would stop the reply ('' when none)")
    reason = serializers.CharField()
    threshold = serializers.FloatField()
    not_checked = serializers.ListField(
        child=serializers.CharField(), help_text="The conversation's rules, which a test cannot check"
    )
