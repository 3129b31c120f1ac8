"""The OpenAI-compatible chat provider against a local fake server (inbox.tests.fake_openai): the
prompt it sends, the JSON it accepts and refuses, retries, timeouts and what it logs."""

from __future__ import annotations

import logging
import time

import pytest

from inbox.ai.chat_provider import ChatProvider, ChatSettings
from inbox.ai.types import Context, KnowledgePair, ProviderError, Turn
from inbox.tests.fake_openai import Completion, Delay, HttpError

API_KEY = "sk-test-7f3a9c1e5b2d"
QUESTION = "¿A qué hora abren el domingo en Pune?"
HOURS = KnowledgePair(
    key="kb-001",
    question="What are your opening hours?",
    answer="We are open 9:00-18:00 Monday to Saturday, 10:00-14:00 on Sunday.",
    alternates=("When do you open?",),
)
DELIVERY = KnowledgePair(key="kb-002", question="Do you deliver?", answer="We deliver within 5 km for free.")
GROUNDED = {
    "reply": "Los domingos abrimos de 10:00 a 14:00.",
    "confidence": 0.92,
    "intent": "",
    "source": "kb-001",
}


def _context(**overrides) -> Context:
    values = {
        "question": QUESTION,
        "knowledge": (HOURS, DELIVERY),
        "language": "es",
        "workspace_name": "Chai Corner",
    }
    return Context(**(values | overrides))


def _provider(fake_openai, **overrides) -> ChatProvider:
    values = {"base_url": fake_openai.base_url, "model": "gpt-test", "api_key": API_KEY} | overrides
    return ChatProvider(ChatSettings(**values))


def test_a_grounded_answer_is_parsed_with_its_tokens(fake_openai):
    fake_openai.queue(Completion(content=GROUNDED, model="gpt-test-2025", prompt_tokens=311, completion_tokens=24))

    answer = _provider(fake_openai).answer(_context())

    assert answer.reply == "Los domingos abrimos de 10:00 a 14:00."
    assert answer.confidence == 0.92
    assert answer.intent == ""
    assert answer.source == "kb-001"
    assert answer.provider == "openai_compatible"
    assert answer.model == "gpt-test-2025"
    assert (answer.prompt_tokens, answer.completion_tokens, answer.tokens) == (311, 24, 335)
    assert answer.details["knowledge_keys"] == ["kb-001", "kb-002"]


def test_the_prompt_carries_the_pairs_the_language_and_the_last_turns(fake_openai):
    fake_openai.queue(GROUNDED)
    history = tuple(Turn(role="customer" if n % 2 == 0 else "business", text=f"turn {n}") for n in range(10))

    _provider(fake_openai, temperature=0.2).answer(_context(history=history))

    (request,) = fake_openai.completion_requests
    body = request.body
    assert body["model"] == "gpt-test"
    assert body["temperature"] == 0.2
    assert body["response_format"] == {"type": "json_object"}
    system = body["messages"][0]
    assert system["role"] == "system"
    assert "Chai Corner" in system["content"]
    assert '"es"' in system["content"]
    assert "[kb-001]" in system["content"] and HOURS.answer in system["content"]
    assert "When do you open?" in system["content"]
    assert "[kb-002]" in system["content"] and DELIVERY.answer in system["content"]
    assert QUESTION not in system["content"]
    # The last six turns (4..9) as user/assistant, then the question.
    assert body["messages"][1:] == [
        {"role": "user", "content": "turn 4"},
        {"role": "assistant", "content": "turn 5"},
        {"role": "user", "content": "turn 6"},
        {"role": "assistant", "content": "turn 7"},
        {"role": "user", "content": "turn 8"},
        {"role": "assistant", "content": "turn 9"},
        {"role": "user", "content": QUESTION},
    ]


def test_without_a_language_the_model_answers_in_the_customers(fake_openai):
    fake_openai.queue(GROUNDED)

    _provider(fake_openai).answer(_context(language=""))

    system = fake_openai.completion_requests[0].body["messages"][0]["content"]
    assert "the language the customer's last message is written in" in system


def test_the_bearer_key_is_sent(fake_openai):
    fake_openai.required_key = API_KEY
    fake_openai.queue(GROUNDED)

    answer = _provider(fake_openai).answer(_context())

    assert answer.source == "kb-001"
    assert fake_openai.requests[0].headers["authorization"] == f"Bearer {API_KEY}"


@pytest.mark.parametrize(
    "content",
    [
        '```json\n{"reply": "Los domingos abrimos de 10:00 a 14:00.", "confidence": 0.8, "intent": "", '
        '"source": "kb-001"}\n```',
        'Claro, aquí está: {"reply": "Los domingos abrimos de 10:00 a 14:00.", "confidence": 0.8, '
        '"intent": "", "source": "kb-001"} Espero que ayude.',
    ],
    ids=["fenced", "text-around"],
)
def test_json_wrapped_in_fences_or_text_is_accepted(fake_openai, content):
    fake_openai.queue(content)

    answer = _provider(fake_openai).answer(_context())

    assert (answer.reply, answer.confidence, answer.source) == ("Los domingos abrimos de 10:00 a 14:00.", 0.8, "kb-001")


@pytest.mark.parametrize(
    "content",
    ["We open at 10 on Sundays.", '{"reply": "We open at 10", "confidence": 0.8', '["a list"]'],
    ids=["prose", "truncated", "not-an-object"],
)
def test_content_that_is_not_a_json_object_is_a_provider_error(fake_openai, content):
    fake_openai.queue(content)

    with pytest.raises(ProviderError, match="JSON"):
        _provider(fake_openai).answer(_context())


@pytest.mark.parametrize(
    "confidence",
    [1.5, -0.1, 85, "0.9", None, True],
    ids=["above-one", "negative", "percent", "string", "null", "boolean"],
)
def test_a_confidence_that_is_not_a_probability_is_a_provider_error(fake_openai, confidence):
    fake_openai.queue(GROUNDED | {"confidence": confidence})

    with pytest.raises(ProviderError, match="confidence"):
        _provider(fake_openai).answer(_context())


@pytest.mark.parametrize("confidence", [0, 1], ids=["zero", "one"])
def test_the_ends_of_the_confidence_range_are_accepted(fake_openai, confidence):
    fake_openai.queue(GROUNDED | {"confidence": confidence})

    assert _provider(fake_openai).answer(_context()).confidence == float(confidence)


def test_an_unknown_source_key_is_dropped(fake_openai):
    fake_openai.queue(GROUNDED | {"source": "kb-999"})

    answer = _provider(fake_openai).answer(_context())

    assert answer.source == ""
    assert answer.reply == GROUNDED["reply"]


def test_a_source_copied_with_its_brackets_names_the_pair(fake_openai):
    fake_openai.queue(GROUNDED | {"source": "[kb-002]"})

    assert _provider(fake_openai).answer(_context()).source == "kb-002"


def test_a_numeric_source_names_the_pair_with_that_key(fake_openai):
    fake_openai.queue(GROUNDED | {"source": 7})

    answer = _provider(fake_openai).answer(_context(knowledge=(KnowledgePair("7", "Q?", "A."),)))

    assert answer.source == "7"


def test_a_blocked_intent_is_returned_even_without_a_reply(fake_openai):
    fake_openai.queue({"reply": "", "confidence": 0.95, "intent": "Refunds", "source": ""})

    answer = _provider(fake_openai).answer(_context(question="I want my money back"))

    assert (answer.intent, answer.reply, answer.confidence) == ("refunds", "", 0.95)


@pytest.mark.parametrize(("intent", "expected"), [("none", ""), (None, ""), ("human", "human")], ids=str)
def test_empty_words_mean_no_intent(fake_openai, intent, expected):
    fake_openai.queue(GROUNDED | {"intent": intent})

    assert _provider(fake_openai).answer(_context()).intent == expected


def test_an_unknown_intent_is_a_provider_error(fake_openai):
    fake_openai.queue(GROUNDED | {"intent": "shipping_damage"})

    with pytest.raises(ProviderError, match="intent"):
        _provider(fake_openai).answer(_context())


def test_an_empty_reply_without_an_intent_is_a_provider_error(fake_openai):
    fake_openai.queue(GROUNDED | {"reply": "   "})

    with pytest.raises(ProviderError, match="reply"):
        _provider(fake_openai).answer(_context())


def test_a_reply_longer_than_the_limit_is_refused_not_cut(fake_openai):
    fake_openai.queue(GROUNDED | {"reply": "x" * 121})

    with pytest.raises(ProviderError, match="longer than 120"):
        _provider(fake_openai, max_reply_chars=120).answer(_context())

    assert fake_openai.completion_requests[0].body["max_tokens"] == 320


def test_a_refused_key_fails_without_a_storm_of_retries(fake_openai):
    fake_openai.required_key = "sk-the-right-one"

    with pytest.raises(ProviderError, match="401"):
        _provider(fake_openai, max_retries=2).answer(_context())

    assert len(fake_openai.requests) == 1


def test_a_server_error_is_retried_and_then_answers(fake_openai):
    fake_openai.queue(HttpError(500), GROUNDED)

    answer = _provider(fake_openai, max_retries=2).answer(_context())

    assert answer.source == "kb-001"
    assert len(fake_openai.completion_requests) == 2
    assert fake_openai.completion_requests[1].headers["x-stainless-retry-count"] == "1"


def test_a_server_that_keeps_failing_is_a_provider_error_after_the_retries(fake_openai):
    fake_openai.queue(HttpError(503), HttpError(503), HttpError(503), GROUNDED)

    with pytest.raises(ProviderError, match="HTTP 503"):
        _provider(fake_openai, max_retries=2).answer(_context())

    assert len(fake_openai.completion_requests) == 3


def test_a_slow_server_times_out(fake_openai):
    fake_openai.queue(Delay(5), Delay(5))
    started = time.monotonic()

    with pytest.raises(ProviderError, match="did not answer within 0.5s"):
        _provider(fake_openai, timeout_seconds=0.5, max_retries=1).answer(_context())

    assert time.monotonic() - started < 3
    assert len(fake_openai.completion_requests) == 2


def test_a_missing_usage_counts_zero_tokens(fake_openai):
    fake_openai.queue(Completion(content=GROUNDED, prompt_tokens=None, completion_tokens=None))

    answer = _provider(fake_openai).answer(_context())

    assert (answer.prompt_tokens, answer.completion_tokens) == (0, 0)


def test_the_logs_name_neither_the_question_nor_the_key(fake_openai, caplog):
    # The error body echoes both, as some servers do: it must not reach the logs or the error.
    fake_openai.queue(GROUNDED, HttpError(400, f"bad request {QUESTION} {API_KEY}"))
    caplog.set_level(logging.DEBUG)
    provider = _provider(fake_openai)

    provider.answer(_context())
    with pytest.raises(ProviderError) as failure:
        provider.answer(_context())

    logged = caplog.text + " ".join(str(record.args) for record in caplog.records)
    assert "chat answer model=gpt-test" in logged
    assert "chat call failed model=gpt-test status=400" in logged
    for secret in (QUESTION, "domingo", API_KEY, GROUNDED["reply"]):
        assert secret not in logged
        assert secret not in str(failure.value)
    assert failure.value.__cause__ is None and failure.value.__context__ is None
    assert API_KEY not in repr(provider.settings)


def test_check_returns_the_model_the_server_names(fake_openai):
    fake_openai.queue(Completion(content="OK", model="llama-3.1-8b-instruct"))

    assert _provider(fake_openai).check() == "llama-3.1-8b-instruct"
    body = fake_openai.completion_requests[0].body
    assert body["max_tokens"] == 16
    assert "response_format" not in body


def test_check_with_a_wrong_key_is_a_provider_error(fake_openai):
    fake_openai.required_key = "sk-the-right-one"

    with pytest.raises(ProviderError, match="refused the API key"):
        _provider(fake_openai).check()


def test_an_unreachable_server_is_a_provider_error(fake_openai):
    base_url = fake_openai.base_url
    fake_openai.stop()

    with pytest.raises(ProviderError, match="could not be reached"):
        ChatProvider(ChatSettings(base_url=base_url, model="gpt-test", api_key=API_KEY, max_retries=0)).answer(
            _context()
        )


def test_an_empty_key_never_falls_back_to_the_environment(fake_openai, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-platform-secret")
    fake_openai.queue(GROUNDED)

    _provider(fake_openai, api_key="").answer(_context())

    assert "sk-platform-secret" not in fake_openai.requests[0].headers["authorization"]
