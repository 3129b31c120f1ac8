"""The built-in provider: answers from the workspace's knowledge base with no network, ranking its
pairs (inbox.ai.ranking) and reporting a calibrated confidence."""

from __future__ import annotations

import threading
from collections import OrderedDict

from inbox.ai.intents import blocked_intent
from inbox.ai.ranking import KnowledgeIndex, Match
from inbox.ai.types import Answer, Context, KnowledgePair

# Indexes kept per process: one per workspace whose knowledge base was asked recently. An index of
# 5,000 pairs takes about a second to build and some tens of MB, so a small number is enough.
INDEX_CACHE_SIZE = 32
CANDIDATES_SHOWN = 3
# The threshold a workspace starts at (inbox.ai.models.DEFAULT_THRESHOLD), from `make bench-ai` on
# the sample business: 0.5 answers about half of the answerable messages, 97 % of them correctly,
# and 2 % of the out-of-scope ones; 0.35 answers 73 % at 95 %. A wrong answer costs a business more
# than a hand-over, so it starts at 0.5; it then moves the threshold with its own leave-one-out table.
RECOMMENDED_THRESHOLD = 0.5


class _IndexCache:
    """A thread-safe LRU of indexes keyed by (tenant id, knowledge base version). A new version
    is a new key, so a changed knowledge base is never answered from a stale index; the stale
    one ages out."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._indexes: OrderedDict[tuple[int, int], KnowledgeIndex] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, context: Context) -> KnowledgeIndex:
        if not context.knowledge_version:
            # no version: nothing says two contexts hold the same pairs
            return KnowledgeIndex(context.knowledge)
        key = (context.tenant_id, context.knowledge_version)
        with self._lock:
            index = self._indexes.get(key)
            if index is not None:
                self._indexes.move_to_end(key)
                self.hits += 1
                return index
            self.misses += 1
        # Built outside the lock: other workspaces are not kept waiting. Two threads missing the
        # same key at once both build it; the second result replaces the first, no harm done.
        index = KnowledgeIndex(context.knowledge)
        with self._lock:
            self._indexes[key] = index
            self._indexes.move_to_end(key)
            while len(self._indexes) > self.size:
                self._indexes.popitem(last=False)
        return index

    def clear(self) -> None:
        with self._lock:
            self._indexes.clear()
            self.hits = self.misses = 0


class KnowledgeProvider:
    """Provider (inbox.ai.types) over the workspace's question/answer pairs."""

    name = "knowledge_base"
    model = "tfidf-rapidfuzz"

    def __init__(self, cache_size: int = INDEX_CACHE_SIZE) -> None:
        self.cache = _IndexCache(cache_size)

    def answer(self, context: Context) -> Answer:
        """The best pair's answer with its calibrated confidence, the blocked intent the message
        names (the guardrails hand those over whatever the confidence) and the runner-up pairs."""
        intent = blocked_intent(context.question)
        matches = self._matches(context, CANDIDATES_SHOWN)
        if not matches:
            return Answer(reply="", confidence=0.0, intent=intent, provider=self.name, model=self.model)
        best = matches[0]
        return Answer(
            reply=best.pair.answer,
            confidence=best.confidence,
            intent=intent,
            source=best.pair.key,
            provider=self.name,
            model=self.model,
            details={
                "candidates": [(match.pair.key, match.pair.question, round(match.confidence, 3)) for match in matches]
            },
        )

    def top_pairs(self, context: Context, k: int) -> list[KnowledgePair]:
        """The `k` pairs that best match the question, best first: what grounds the chat provider."""
        return [match.pair for match in self._matches(context, k)]

    def _matches(self, context: Context, limit: int) -> list[Match]:
        if not context.knowledge or not context.question.strip():
            return []
        index = self.cache.get(context)
        return index.search(context.question, language=context.language, limit=limit)
