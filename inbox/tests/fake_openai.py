"""A fake OpenAI-compatible server for tests: a real HTTP server on 127.0.0.1 that answers from a
script, so the chat provider is tested through the `openai` client without any network.

Use the `fake_openai` fixture (inbox/tests/conftest.py), which starts one per test and stops it after:

    def test_something(fake_openai):
        fake_openai.queue(
            {"reply": "We open at 9.", "confidence": 0.9, "intent": "", "source": "kb-1"},  # JSON content
            HttpError(500),                       # then a server error (the client retries it)
            "```json\\n{...}\\n```",              # then raw content, exactly as given
            Completion(content={...}, prompt_tokens=None, completion_tokens=None),  # no usage
            Delay(2.0),                           # then sleep 2 s (longer than the client's timeout)
        )
        provider = ChatProvider(ChatSettings(base_url=fake_openai.base_url, model="m", api_key="sk-test"))
        ...
        body = fake_openai.requests[0].body            # the parsed JSON the client sent
        fake_openai.requests[0].headers["authorization"]  # "Bearer sk-test" (header names lower-cased)

API of `FakeOpenAI`:
- `base_url`: "http://127.0.0.1:PORT/v1", what `OpenAI(base_url=...)` / ChatSettings takes.
- `queue(*outcomes)`: each POST /v1/chat/completions takes the next outcome; when the queue is empty
  the `default` outcome answers (settable, same shorthands). Outcomes:
  - a dict: a completion whose message content is that dict as JSON;
  - a str: a completion whose message content is exactly that string;
  - `Completion(content, model=None, prompt_tokens=42, completion_tokens=7, finish_reason="stop")`:
    `model=None` echoes the requested model; both token counts None omits `usage` altogether;
  - `HttpError(status, message="...", retry_after_ms=10)`: an OpenAI-shaped error body; the
    `retry-after-ms` header keeps the client's retries of 429/5xx fast (None: the client's backoff);
  - `Delay(seconds, then=None)`: sleep, then answer `then` (None: the default outcome).
- `requests`: every request received, in order, as `RecordedRequest(method, path, headers, body)`;
  `completion_requests` keeps only the chat-completion POSTs.
- `required_key`: when set, requests without `Authorization: Bearer <required_key>` get a 401.
- `models`: the ids GET /v1/models lists (default ("fake-model",)).
- `reset()`: empties the queue and the recorded requests.
The server is deterministic: it never reads the prompt to decide what to answer.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_REPLY = {"reply": "Hello from the fake model.", "confidence": 0.9, "intent": "", "source": ""}


@dataclass(frozen=True)
class Completion:
    content: str | dict[str, Any]
    model: str | None = None
    prompt_tokens: int | None = 42
    completion_tokens: int | None = 7
    finish_reason: str = "stop"


@dataclass(frozen=True)
class HttpError:
    status: int
    message: str = "fake server error"
    retry_after_ms: int | None = 10


@dataclass(frozen=True)
class Delay:
    seconds: float
    then: Completion | HttpError | None = None


Outcome = Completion | HttpError | Delay


def as_outcome(value: Outcome | dict[str, Any] | str) -> Outcome:
    if isinstance(value, dict | str):
        return Completion(content=value)
    return value


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any = None


@dataclass
class FakeOpenAI:
    models: tuple[str, ...] = ("fake-model",)
    required_key: str | None = None
    requests: list[RecordedRequest] = field(default_factory=list)
    _default: Outcome = field(default_factory=lambda: Completion(content=DEFAULT_REPLY))
    _queue: deque[Outcome] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Set on stop, so a Delay in progress ends at once instead of holding the test run.
    _stopping: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None
    _created: int = field(default_factory=lambda: int(time.time()))
    _served: int = 0

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the fake server is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def default(self) -> Outcome:
        return self._default

    @default.setter
    def default(self, value: Outcome | dict[str, Any] | str) -> None:
        self._default = as_outcome(value)

    @property
    def completion_requests(self) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path.endswith("/chat/completions")]

    def queue(self, *outcomes: Outcome | dict[str, Any] | str) -> None:
        with self._lock:
            self._queue.extend(as_outcome(outcome) for outcome in outcomes)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self.requests.clear()

    def start(self) -> FakeOpenAI:
        handler = type("FakeOpenAIHandler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        # A short poll keeps stop() (and so each test's teardown) from waiting the default half second.
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-openai", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # Called from the handler threads.

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _next_outcome(self) -> Outcome:
        with self._lock:
            return self._queue.popleft() if self._queue else self._default

    def _completion_body(self, completion: Completion, requested_model: str) -> dict[str, Any]:
        with self._lock:
            self._served += 1
            number = self._served
        content = completion.content
        body: dict[str, Any] = {
            "id": f"chatcmpl-fake-{number}",
            "object": "chat.completion",
            "created": self._created + number,
            "model": completion.model or requested_model or self.models[0],
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": content if isinstance(content, str) else json.dumps(content, ensure_ascii=False),
                    },
                    "finish_reason": completion.finish_reason,
                }
            ],
        }
        if completion.prompt_tokens is not None or completion.completion_tokens is not None:
            prompt, answer = completion.prompt_tokens or 0, completion.completion_tokens or 0
            body["usage"] = {"prompt_tokens": prompt, "completion_tokens": answer, "total_tokens": prompt + answer}
        return body


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAI
    protocol_version = "HTTP/1.1"  # keep-alive, as the client expects

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.fake._record(RecordedRequest("GET", self.path, self._headers()))
        if not self._authorized():
            return
        if self.path.rstrip("/") != "/v1/models":
            self._send_error(HttpError(404, "not found", retry_after_ms=None))
            return
        data = [{"id": model, "object": "model", "created": 0, "owned_by": "fake"} for model in self.fake.models]
        self._send_json(200, {"object": "list", "data": data})

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self.fake._record(RecordedRequest("POST", self.path, self._headers(), body))
        if not self._authorized():
            return
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send_error(HttpError(404, "not found", retry_after_ms=None))
            return
        outcome = self.fake._next_outcome()
        if isinstance(outcome, Delay):
            if self.fake._stopping.wait(outcome.seconds):
                return
            outcome = outcome.then or self.fake.default
            if isinstance(outcome, Delay):
                outcome = Completion(content=DEFAULT_REPLY)
        if isinstance(outcome, HttpError):
            self._send_error(outcome)
            return
        requested_model = body.get("model", "") if isinstance(body, dict) else ""
        self._send_json(200, self.fake._completion_body(outcome, requested_model))

    def _headers(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.headers.items()}

    def _authorized(self) -> bool:
        required = self.fake.required_key
        if required is None or self.headers.get("Authorization") == f"Bearer {required}":
            return True
        self._send_error(HttpError(401, "Incorrect API key provided.", retry_after_ms=None))
        return False

    def _send_error(self, error: HttpError) -> None:
        body = {"error": {"message": error.message, "type": "fake_error", "param": None, "code": str(error.status)}}
        headers = {} if error.retry_after_ms is None else {"retry-after-ms": str(error.retry_after_ms)}
        self._send_json(error.status, body, headers)

    def _send_json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout): nothing to answer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
        pass
