"""What every provider takes and gives (one interface: `Provider.answer(context) → Answer`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class KnowledgePair:
    """One question/answer pair of a workspace's knowledge base. `key` names it in answers and
    evaluations (the stored row's id as text, or a sample's id such as "kb-001"); `alternates`
    are other ways customers ask the same thing."""

    key: str
    question: str
    answer: str
    language: str = "en"
    alternates: tuple[str, ...] = ()


@dataclass(frozen=True)
class Turn:
    """One earlier message of the conversation, oldest first: `customer` or `business`."""

    role: str
    text: str


@dataclass(frozen=True)
class Context:
    """What a provider may read: the customer's message, the language to answer in ("" when not
    known), the last turns of the conversation, the workspace's knowledge base."""

    question: str
    knowledge: tuple[KnowledgePair, ...]
    language: str = ""
    history: tuple[Turn, ...] = ()
    workspace_name: str = ""
    # The workspace's knowledge base version (bumped on every change): providers that build an
    # index cache it under (tenant_id, version).
    tenant_id: int = 0
    knowledge_version: int = 0


@dataclass(frozen=True)
class Answer:
    """A provider's answer. `confidence` is a probability (0–1) that `reply` answers the question;
    `intent` is "" or one of inbox.ai.intents.INTENTS (a blocked topic the provider recognised);
    `source` is the key of the knowledge pair the reply comes from ("" when none)."""

    reply: str
    confidence: float
    intent: str = ""
    source: str = ""
    provider: str = ""
    model: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # What the provider saw, for the settings page's test box (e.g. the runner-up pairs).
    details: dict[str, object] = field(default_factory=dict)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class ProviderError(Exception):
    """The provider could not answer (network, timeout, an answer that is not valid JSON): the
    message is handed over, never guessed."""


class Provider(Protocol):
    name: str

    def answer(self, context: Context) -> Answer: ...
