"""The AI auto-reply's stored state: a workspace's settings (which numbers, which provider, the
threshold, the reply cap, its own blocked words), its knowledge base, and one decision per
customer message the AI looked at (answered, handed over, or left alone, with the rule that
stopped it). Imported by inbox.models, so these are the inbox app's models."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from aerostic.core.fields import EncryptedTextField
from aerostic.core.tenant_scoped import TenantScopedModel

DEFAULT_THRESHOLD = 0.5  # inbox.ai.knowledge_provider.RECOMMENDED_THRESHOLD (why: there)


class AISettings(TenantScopedModel):
    """A workspace's AI auto-reply (one row, created on first save; off until someone turns it on)."""

    class Provider(models.TextChoices):
        KNOWLEDGE_BASE = "knowledge_base", "Knowledge base (built in, no data leaves Aerostic)"
        OPENAI_COMPATIBLE = "openai_compatible", "OpenAI-compatible chat model"

    enabled = models.BooleanField(default=False)
    provider = models.CharField(max_length=24, choices=Provider.choices, default=Provider.KNOWLEDGE_BASE)
    threshold = models.FloatField(
        default=DEFAULT_THRESHOLD,
        validators=[MinValueValidator(0.05), MaxValueValidator(0.99)],
        help_text="Answer only when the AI is at least this sure (0.05–0.99); below it, a person answers",
    )
    daily_reply_cap = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="At most this many AI replies per conversation per day (the workspace's day)",
    )
    blocked_words = models.TextField(
        blank=True, help_text="The workspace's own topics for a person, one word or phrase per line"
    )
    handover_team = models.ForeignKey(
        "inbox.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Hand-overs go to this team's next available agent (round robin); empty: left unassigned",
    )
    chat_base_url = models.URLField(blank=True, help_text="e.g. https://api.openai.com/v1")
    chat_model = models.CharField(max_length=100, blank=True)
    chat_api_key = EncryptedTextField(blank=True)
    knowledge_version = models.PositiveIntegerField(default=0, help_text="Moves on every knowledge base change")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="ai_settings_once")]
        verbose_name = "AI settings"
        verbose_name_plural = "AI settings"

    def __str__(self) -> str:
        return f"AI settings of {self.tenant_id}"

    def chat_key(self) -> str:
        """The chat model's key in plain text ("" when none). The field seals "" too (a sealed value
        is always truthy) and holds plain text until saved, so the plaintext is what tells."""
        value = self.chat_api_key
        if not value:
            return ""
        reveal = getattr(value, "reveal", None)
        return str(reveal() if reveal is not None else value)

    @property
    def has_chat_api_key(self) -> bool:
        return bool(self.chat_key())


class AINumber(TenantScopedModel):
    """A number the AI answers on (the workspace's switch must be on too)."""

    phone_number = models.ForeignKey("whatsapp.PhoneNumber", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "phone_number"], name="ai_number_once")]
        verbose_name = "AI number"

    def __str__(self) -> str:
        return f"AI on number {self.phone_number_id}"


class KnowledgeAnswer(TenantScopedModel):
    """One question/answer pair the AI may answer with (inbox.ai.types.KnowledgePair once loaded)."""

    language = models.CharField(max_length=12, default="en", help_text="e.g. en, hi, es")
    question = models.CharField(max_length=500)
    alternates = models.TextField(blank=True, help_text="Other ways customers ask it, one per line")
    answer = models.TextField(max_length=4096)
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "language", "question"], name="knowledge_question_once")
        ]
        ordering = ["language", "question"]

    def __str__(self) -> str:
        return self.question[:80]

    def alternate_list(self) -> list[str]:
        return [line.strip() for line in self.alternates.splitlines() if line.strip()]


class AIReply(TenantScopedModel):
    """What the AI did with one customer message: claimed once per message (unique wamid), so a
    job run twice never answers twice; `rule` names the guardrail that stopped it."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Deciding"
        ANSWERED = "answered", "Answered"
        HANDED_OVER = "handed_over", "Handed over"
        SILENT = "silent", "Left to the team"

    conversation = models.ForeignKey("inbox.Conversation", on_delete=models.CASCADE, related_name="+")
    wamid = models.CharField(max_length=255, help_text="The customer's message")
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.PENDING)
    rule = models.CharField(max_length=32, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    intent = models.CharField(max_length=32, blank=True)
    source = models.ForeignKey(KnowledgeAnswer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    source_question = models.CharField(max_length=500, blank=True)
    provider = models.CharField(max_length=24, blank=True)
    model = models.CharField(max_length=100, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    outbound = models.ForeignKey(
        "whatsapp.OutboundMessage", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "wamid"], name="ai_reply_once_per_message")]
        indexes = [models.Index(fields=["conversation", "outcome", "created_at"], name="ai_reply_conversation")]
        verbose_name_plural = "AI replies"

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} ({self.rule or 'sent'}) in {self.conversation_id}"
