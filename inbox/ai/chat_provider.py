"""The OpenAI-compatible chat-completions provider: asks a chat model to answer from the workspace's
knowledge pairs and return a JSON verdict (reply, confidence, intent, source), validated strictly.

The JSON contract the model is asked for and that `parse_verdict` enforces:

    {"reply": str, "confidence": number, "intent": str, "source": str}

- `confidence` must be a JSON number (not a string, not a boolean) with 0 ≤ confidence ≤ 1; anything
  else is a ProviderError: a model that answers 85 or "high" has not understood the contract, and a
  guessed probability would be compared with the workspace's threshold as if it were real.
- `intent` is compared case-insensitively. One of CHAT_INTENTS is kept; null, missing or an
  "empty-ish" word ("", "none", "null", "n/a", …) means no blocked topic; any other value is a
  ProviderError, because a topic we cannot name may be exactly the one that must go to a human.
- `reply` must be a non-empty string unless an intent is given (a hand-over needs no text). A reply
  longer than `max_reply_chars` is refused, not truncated: a cut answer may say something else.
- `source` must name one of the pairs the model was given; an unknown key (or null) becomes "" so
  the timeline never points at a pair the model invented. A number is read as its text (`7` → "7").

The content is parsed even when the server ignored `response_format`: a bare object, one wrapped in
```json fences, or one surrounded by prose (the outermost {...} is taken).

Nothing here logs a message text or the key: only the model, the outcome, durations and tokens.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import openai
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam

from inbox.ai.types import Answer, Context, KnowledgePair, ProviderError, Turn

logger = logging.getLogger(__name__)

PROVIDER_NAME = "openai_compatible"

# The blocked topics a model may name (inbox.ai.types.Answer.intent); "human" is "talk to a person".
CHAT_INTENTS = frozenset({"payments", "refunds", "legal", "medical", "complaints", "human"})
NO_INTENT_WORDS = frozenset({"", "none", "null", "no", "n/a", "na", "nil", "-", "false"})

# Only the last few turns: enough for "and on Sundays?" to make sense, few enough to keep the prompt
# (and the bill) small.
HISTORY_TURNS = 6

# A local server needs no key, but the client would then read OPENAI_API_KEY from the environment and
# send the platform's own key to whatever base URL a workspace typed in: send a harmless word instead.
KEYLESS_PLACEHOLDER = "no-key"

CHECK_PROMPT = "Reply with the single word OK."


@dataclass(frozen=True)
class ChatSettings:
    """Where and how to ask. `api_key` is the plain key: the caller decrypts it and never logs it."""

    base_url: str
    model: str
    api_key: str = ""
    timeout_seconds: float = 15
    max_retries: int = 2
    temperature: float = 0
    # WhatsApp allows 4,096 characters; an auto-reply longer than this is not brief.
    max_reply_chars: int = 1000

    def __repr__(self) -> str:
        # The dataclass repr would print the key into any traceback or log line that shows settings.
        return f"ChatSettings(base_url={self.base_url!r}, model={self.model!r}, api_key=<hidden>)"


class ChatProvider:
    """Answers from the knowledge pairs in the context through any OpenAI-compatible server."""

    name = PROVIDER_NAME

    def __init__(self, settings: ChatSettings) -> None:
        if not settings.base_url.strip() or not settings.model.strip():
            raise ProviderError("the chat provider needs a base URL and a model")
        self.settings = settings
        try:
            self._client = openai.OpenAI(
                base_url=settings.base_url.strip(),
                api_key=settings.api_key or KEYLESS_PLACEHOLDER,
                timeout=settings.timeout_seconds,
                max_retries=settings.max_retries,
            )
        except openai.OpenAIError:
            raise ProviderError("the chat provider's settings are not usable") from None

    def answer(self, context: Context) -> Answer:
        started = time.monotonic()
        completion = self._complete(
            build_messages(context, max_reply_chars=self.settings.max_reply_chars),
            # Characters bound tokens from above in every script, so this never cuts a valid reply
            # while keeping a runaway answer from running up the bill; the extra is the JSON around it.
            max_tokens=self.settings.max_reply_chars + 200,
            json_mode=True,
            started=started,
        )
        prompt_tokens, completion_tokens = usage_tokens(completion)
        model = completion.model or self.settings.model
        try:
            verdict = parse_verdict(
                completion_content(completion),
                knowledge_keys={pair.key for pair in context.knowledge},
                max_reply_chars=self.settings.max_reply_chars,
            )
        except ProviderError as error:
            logger.warning(
                "chat answer rejected model=%s reason=%s duration_ms=%d prompt_tokens=%d completion_tokens=%d",
                model,
                error,
                _elapsed_ms(started),
                prompt_tokens,
                completion_tokens,
            )
            raise
        logger.info(
            "chat answer model=%s intent=%s confidence=%.2f duration_ms=%d prompt_tokens=%d completion_tokens=%d",
            model,
            verdict.intent or "-",
            verdict.confidence,
            _elapsed_ms(started),
            prompt_tokens,
            completion_tokens,
        )
        return Answer(
            reply=verdict.reply,
            confidence=verdict.confidence,
            intent=verdict.intent,
            source=verdict.source,
            provider=PROVIDER_NAME,
            model=model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            details={
                "knowledge_keys": [pair.key for pair in context.knowledge],
                "finish_reason": completion.choices[0].finish_reason if completion.choices else "",
            },
        )

    def check(self) -> str:
        """One tiny completion (the settings page's "test the connection"): the model name or ProviderError."""
        started = time.monotonic()
        completion = self._complete(
            [{"role": "user", "content": CHECK_PROMPT}], max_tokens=16, json_mode=False, started=started
        )
        model = completion.model or self.settings.model
        logger.info("chat check model=%s duration_ms=%d", model, _elapsed_ms(started))
        return model

    def close(self) -> None:
        self._client.close()

    def _complete(
        self, messages: list[ChatCompletionMessageParam], *, max_tokens: int, json_mode: bool, started: float
    ) -> ChatCompletion:
        """One call through the client (which retries timeouts, 429 and 5xx itself); every failure
        becomes a ProviderError whose text comes from us, never from the server's body."""
        try:
            if json_mode:
                return self._client.chat.completions.create(
                    model=self.settings.model,
                    messages=messages,
                    temperature=self.settings.temperature,
                    max_tokens=max_tokens,
                    response_format={"type": "json_object"},
                )
            return self._client.chat.completions.create(
                model=self.settings.model,
                messages=messages,
                temperature=self.settings.temperature,
                max_tokens=max_tokens,
            )
        except openai.APITimeoutError:
            problem, status = f"the model server did not answer within {self.settings.timeout_seconds:g}s", "timeout"
        except openai.APIConnectionError:
            problem, status = "the model server could not be reached", "unreachable"
        except openai.AuthenticationError:
            problem, status = "the model server refused the API key (401)", "401"
        except openai.APIStatusError as error:
            problem, status = f"the model server answered HTTP {error.status_code}", str(error.status_code)
        except openai.OpenAIError as error:
            # e.g. a 200 whose body is not a completion; the class name says enough.
            problem, status = f"the model server's answer was not understood ({type(error).__name__})", "invalid"
        # Raised outside the except blocks, so the chain does not carry the server's error body
        # (which can echo the message or part of the key) into tracebacks.
        logger.warning(
            "chat call failed model=%s status=%s duration_ms=%d", self.settings.model, status, _elapsed_ms(started)
        )
        raise ProviderError(problem)


@dataclass(frozen=True)
class Verdict:
    reply: str
    confidence: float
    intent: str
    source: str


def build_messages(context: Context, *, max_reply_chars: int) -> list[ChatCompletionMessageParam]:
    """The system prompt, the last few turns, then the customer's message."""
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": system_prompt(context, max_reply_chars=max_reply_chars)}
    ]
    history = list(context.history)
    # The caller may already have put the message being answered at the end of the history.
    if history and history[-1].role == "customer" and history[-1].text.strip() == context.question.strip():
        history.pop()
    for turn in _recent_turns(history):
        if turn.role == "customer":
            messages.append({"role": "user", "content": turn.text})
        else:
            messages.append({"role": "assistant", "content": turn.text})
    messages.append({"role": "user", "content": context.question})
    return messages


def _recent_turns(history: list[Turn]) -> list[Turn]:
    useful = [turn for turn in history if turn.role in ("customer", "business") and turn.text.strip()]
    return useful[-HISTORY_TURNS:]


def system_prompt(context: Context, *, max_reply_chars: int) -> str:
    business = context.workspace_name.strip() or "this business"
    if context.language:
        language = f'in the language with code "{context.language}" (the customer\'s language)'
    else:
        language = "in the language the customer's last message is written in"
    intents = ", ".join(sorted(CHAT_INTENTS))
    return "\n".join(
        [
            f"You answer WhatsApp messages from customers of {business}, speaking as {business} (we/our).",
            "Rules:",
            "1. Answer ONLY from the knowledge base below. Do not use other knowledge and do not guess. "
            "If the knowledge base does not answer the message, say briefly that a colleague will help, "
            'with "confidence" below 0.3 and "source" "".',
            f"2. Answer {language}, even when the knowledge base is written in another language.",
            f"3. Be brief and plain: at most {max_reply_chars} characters, no markdown.",
            "4. Never promise or confirm refunds, payments, legal or medical outcomes.",
            f'5. "intent": if the customer asks about one of these topics, give it: {intents} '
            '("human" means they want to talk to a person, "complaints" that they complain); otherwise "".',
            '6. "confidence": the probability (a number from 0 to 1) that your reply correctly answers '
            "the message from the knowledge base.",
            '7. "source": the key in square brackets of the knowledge entry your reply uses, or "".',
            "Return ONLY a JSON object, no other text:",
            '{"reply": "<your answer>", "confidence": <0..1>, "intent": "<topic or empty>", '
            '"source": "<key or empty>"}',
            "",
            "Knowledge base:",
            knowledge_text(context.knowledge),
        ]
    )


def knowledge_text(knowledge: tuple[KnowledgePair, ...]) -> str:
    if not knowledge:
        return "(empty: no answer is known)"
    entries = []
    for pair in knowledge:
        lines = [f"[{pair.key}] ({pair.language})", f"Q: {pair.question}"]
        if pair.alternates:
            lines.append("Also asked as: " + " | ".join(pair.alternates))
        lines.append(f"A: {pair.answer}")
        entries.append("\n".join(lines))
    return "\n\n".join(entries)


def completion_content(completion: ChatCompletion) -> str:
    if not completion.choices:
        raise ProviderError("the model returned no choices")
    message = completion.choices[0].message
    if message.refusal:
        raise ProviderError("the model refused to answer")
    if not message.content or not message.content.strip():
        raise ProviderError("the model returned no content")
    return message.content


def usage_tokens(completion: ChatCompletion) -> tuple[int, int]:
    """(prompt, completion) tokens as the server counted them; 0 when it sent none."""
    usage = completion.usage
    if usage is None:
        return 0, 0
    return int(usage.prompt_tokens or 0), int(usage.completion_tokens or 0)


def parse_verdict(content: str, *, knowledge_keys: set[str], max_reply_chars: int) -> Verdict:
    """The model's JSON object, checked against the contract in this module's docstring."""
    data = _json_object(content)
    intent = _intent(data.get("intent"))
    confidence = _confidence(data.get("confidence"))
    reply = data.get("reply")
    if reply is None and intent:
        reply = ""
    if not isinstance(reply, str):
        raise ProviderError('"reply" is not a string')
    reply = reply.strip()
    if not reply and not intent:
        raise ProviderError('"reply" is empty')
    if len(reply) > max_reply_chars:
        raise ProviderError(f'"reply" is longer than {max_reply_chars} characters')
    return Verdict(
        reply=reply, confidence=confidence, intent=intent, source=_source(data.get("source"), knowledge_keys)
    )


def _json_object(content: str) -> dict[str, Any]:
    text = content.strip()
    try:
        data = json.loads(text)
    except ValueError:
        # Fenced or wrapped in prose: the outermost braces hold the object.
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end <= start:
            raise ProviderError("the model's answer is not JSON") from None
        try:
            data = json.loads(text[start : end + 1])
        except ValueError:
            raise ProviderError("the model's answer is not valid JSON") from None
    if not isinstance(data, dict):
        raise ProviderError("the model's answer is not a JSON object")
    return data


def _confidence(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProviderError('"confidence" is not a number')
    confidence = float(value)
    if not math.isfinite(confidence) or not 0 <= confidence <= 1:
        raise ProviderError('"confidence" is not between 0 and 1')
    return confidence


def _intent(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ProviderError('"intent" is not a string')
    intent = value.strip().lower()
    if intent in CHAT_INTENTS:
        return intent
    if intent in NO_INTENT_WORDS:
        return ""
    raise ProviderError('"intent" is not a known topic')


def _source(value: object, knowledge_keys: set[str]) -> str:
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ProviderError('"source" is not a string')
    key = value.strip().strip("[]").strip()
    return key if key in knowledge_keys else ""


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
