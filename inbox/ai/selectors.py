"""Reads of the AI auto-reply: a workspace's settings, whether the AI answers on a number, the
knowledge base as the providers take it (cached per workspace and version: a worker answering
many messages reads the pairs once per change), and the AI's record in a conversation."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime

from django.db.models import QuerySet

from inbox.ai.models import AINumber, AIReply, AISettings, KnowledgeAnswer
from inbox.ai.types import KnowledgePair
from tenants.flags import flag_enabled

FLAG = "ai_replies"
_CACHE_SIZE = 64
_pairs_cache: OrderedDict[tuple[int, int], tuple[KnowledgePair, ...]] = OrderedDict()
_pairs_lock = threading.Lock()


def ai_settings() -> AISettings:
    """The workspace's settings (the defaults, AI off, until someone saves them)."""
    return AISettings.objects.first() or AISettings()


def ai_available(tenant_id: int) -> bool:
    """The feature is rolled out to this workspace (the `ai_replies` flag)."""
    return flag_enabled(FLAG, tenant_id)


def ai_number_ids() -> set[int]:
    return set(AINumber.objects.values_list("phone_number_id", flat=True))


def ai_active_on(tenant_id: int, phone_number_id: int) -> AISettings | None:
    """The settings when the AI answers on this number (flag, workspace switch and number all
    on); None otherwise."""
    settings = AISettings.objects.filter(enabled=True).first()
    if settings is None or not AINumber.objects.filter(phone_number_id=phone_number_id).exists():
        return None
    return settings if ai_available(tenant_id) else None


def knowledge_pairs(tenant_id: int, version: int) -> tuple[KnowledgePair, ...]:
    """The enabled pairs, keyed by their row id, from the cache when this version was read."""
    key = (tenant_id, version)
    with _pairs_lock:
        if key in _pairs_cache:
            _pairs_cache.move_to_end(key)
            return _pairs_cache[key]
    rows = KnowledgeAnswer.objects.filter(enabled=True).order_by("pk")
    pairs = tuple(
        KnowledgePair(
            key=str(row.pk),
            question=row.question,
            answer=row.answer,
            language=row.language,
            alternates=tuple(row.alternate_list()),
        )
        for row in rows.only("pk", "question", "answer", "language", "alternates")
    )
    with _pairs_lock:
        _pairs_cache[key] = pairs
        while len(_pairs_cache) > _CACHE_SIZE:
            _pairs_cache.popitem(last=False)
    return pairs


def replies_today(conversation_id: int, since: datetime) -> int:
    return AIReply.objects.filter(
        conversation_id=conversation_id, outcome=AIReply.Outcome.ANSWERED, created_at__gte=since
    ).count()


def knowledge_list(search: str = "") -> QuerySet[KnowledgeAnswer]:
    """The knowledge base for its editor and the API, disabled pairs included; `search` keeps the
    pairs whose question contains it (any case)."""
    rows = KnowledgeAnswer.objects.order_by("language", "question", "pk")
    search = search.strip()
    return rows.filter(question__icontains=search) if search else rows


def knowledge_get(pair_id: int) -> KnowledgeAnswer:
    return KnowledgeAnswer.objects.get(pk=pair_id)
