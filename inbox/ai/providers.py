"""The provider a workspace chose, built from its settings (or the environment's defaults for the
chat model), behind the one interface of inbox.ai.types."""

from __future__ import annotations

from dataclasses import replace

from django.conf import settings as django_settings

from aerostic.core.public_urls import private_target_problem
from inbox.ai.chat_provider import ChatProvider, ChatSettings
from inbox.ai.knowledge_provider import KnowledgeProvider
from inbox.ai.models import AISettings
from inbox.ai.types import Answer, Context, ProviderError

GROUNDING_PAIRS = 8
_knowledge = KnowledgeProvider()


def chat_settings(settings: AISettings) -> ChatSettings | None:
    """The workspace's chat model, else the platform's (AI_CHAT_* settings); None when neither is set."""
    defaults = getattr(django_settings, "AI_CHAT", {}) or {}
    base_url = settings.chat_base_url or defaults.get("base_url", "")
    model = settings.chat_model or defaults.get("model", "")
    key = settings.chat_key() or defaults.get("api_key", "")
    if not (base_url and model and key):
        return None
    return ChatSettings(
        base_url=base_url, model=model, api_key=key, timeout_seconds=float(defaults.get("timeout", 15) or 15)
    )


def provider_answer(settings: AISettings, context: Context) -> Answer:
    if settings.provider != AISettings.Provider.OPENAI_COMPATIBLE:
        return _knowledge.answer(context)
    chat = chat_settings(settings)
    if chat is None:
        raise ProviderError("no chat model is configured (base URL, model and key)")
    problem = private_target_problem(chat.base_url)  # a workspace's URL, called by the platform's worker
    if problem is not None:
        raise ProviderError(f"the chat model's address is refused: {problem}")
    grounded = replace(context, knowledge=tuple(_knowledge.top_pairs(context, GROUNDING_PAIRS)))
    return ChatProvider(chat).answer(grounded)
