"""The simulator's HTTP server: the HTTP plumbing, fault injection, routing to the Graph endpoints
(`graph_accounts`, `graph_media`, `graph_messages`, `graph_templates`, mixed into `SimulatorServer`
with the webhooks of `events`) and a `/_sim/` control API for tests and demos."""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from whatsapp.simulator import webhooks
from whatsapp.simulator.events import SimulatedEvents
from whatsapp.simulator.graph_accounts import AccountRoutes
from whatsapp.simulator.graph_media import MEDIA_KINDS, MediaRoutes, RawBody, form_summary
from whatsapp.simulator.graph_messages import MessageRoutes
from whatsapp.simulator.graph_templates import TemplateRoutes
from whatsapp.simulator.state import (
    ALL_SCOPES,
    Faults,
    GraphFault,
    SimulatorState,
)

Route = tuple[str, re.Pattern[str], Callable[..., Any]]


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog is 5: a campaign opening dozens of keep-alive connections at
    # once overflowed it, and the kernel dropped handshakes (1 s SYN retries, even reset requests).
    request_queue_size = 1024


class SimulatorServer(AccountRoutes, MediaRoutes, MessageRoutes, TemplateRoutes, SimulatedEvents):
    """Owns the state, the HTTP server and the webhook sender. `start()` runs it in a thread."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_url: str | None = None,
        app_secret: str = "",
        state: SimulatorState | None = None,
        state_file: Path | None = None,
    ) -> None:
        self.state = state or SimulatorState()
        self.state_file = state_file
        if state_file is not None and state_file.exists():
            self.state.load(state_file)
        self.webhooks = webhooks.WebhookSender(url=webhook_url, app_secret=app_secret)
        self.httpd = _Server((host, port), self._handler_class())
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._stop_review = threading.Event()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> SimulatorServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        threading.Thread(target=self._review_loop, daemon=True).start()
        return self

    def serve_forever(self) -> None:
        threading.Thread(target=self._review_loop, daemon=True).start()
        self.httpd.serve_forever()

    def stop(self) -> None:
        self._stop_review.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def _review_loop(self) -> None:
        while not self._stop_review.wait(0.2):
            for template in self.state.review_due_templates():
                self.template_status_webhook(template)

    # ---- HTTP plumbing ------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm holds
            # the second until the client's delayed ACK (~40 ms per request on a kept-alive
            # connection), which made every Graph call look slow.
            disable_nagle_algorithm = True
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet: the request log is the record
                pass

            def _dispatch(self, method: str) -> None:
                parsed = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
                status, body = server.handle(method, parsed.path, query, raw, dict(self.headers))
                if isinstance(body, RawBody):
                    data, content_type = body.data, body.content_type
                else:
                    data, content_type = json.dumps(body).encode(), "application/json"
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                self._dispatch("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._dispatch("POST")

            def do_DELETE(self) -> None:  # noqa: N802
                self._dispatch("DELETE")

        return Handler

    def handle(
        self, method: str, path: str, query: dict[str, str], raw: bytes, headers: dict[str, str]
    ) -> tuple[int, Any]:
        status, body = self._handle(method, path, query, raw, headers)
        if self.state_file is not None and method != "GET" and status == 200:
            self.state.save(self.state_file)
        return status, body

    def _handle(
        self, method: str, path: str, query: dict[str, str], raw: bytes, headers: dict[str, str]
    ) -> tuple[int, Any]:
        download = re.fullmatch(r"/_sim/media/(\d+)/download", path)
        if download and method == "GET":
            status, body = self._media_download(download.group(1), query, headers)
            self.state.log(
                {"ts": time.time(), "method": method, "path": path, "query": {}, "json": None, "status": status}
            )
            return status, body
        if path.startswith("/_sim/"):
            return self._control(method, path, raw)
        match = re.match(r"^/v\d+\.\d+/(.+?)/?$", path)
        entry: dict[str, Any] = {
            "ts": time.time(),
            "method": method,
            "path": path,
            "query": {k: v for k, v in query.items() if k not in ("access_token", "client_secret", "input_token")},
            "json": None,
        }
        self.state.log(entry)
        try:
            body = entry["json"] = self._parse_body(raw, headers)
            if match is None:
                raise GraphFault(400, 2500, "Unknown path components: " + path, error_type="OAuthException")
            self._inject_faults()
            result = self._route(method, match.group(1), query, body, headers, raw)
            entry["status"] = 200
            return 200, result
        except GraphFault as fault:
            entry["status"] = fault.status
            entry["error_code"] = fault.code
            return fault.status, fault.body()

    @staticmethod
    def _parse_body(raw: bytes, headers: dict[str, str]) -> Any:
        if not raw:
            return None
        content_type = headers.get("Content-Type", "")
        if "json" in content_type:
            try:
                return json.loads(raw)
            except ValueError:
                raise GraphFault(400, 100, "Invalid JSON body") from None  # raised before logging
        return form_summary(raw, content_type)

    def _inject_faults(self) -> None:
        faults = self.state.faults
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        roll = random.random()  # noqa: S311
        if roll < faults.timeout_rate:
            time.sleep(faults.timeout_seconds)
            raise GraphFault(504, 2, "Service temporarily unavailable")
        roll -= faults.timeout_rate
        if roll < faults.server_error_rate:
            raise GraphFault(500, 1, "An unknown error occurred", error_type="OAuthException")
        roll -= faults.server_error_rate
        if roll < faults.throttle_rate:
            raise GraphFault(429, 130429, "Rate limit hit", details="Cloud API message throughput has been reached.")

    def _token(self, query: dict[str, str], headers: dict[str, str]) -> Any:
        auth = headers.get("Authorization", "")
        value = auth[7:] if auth.startswith("Bearer ") else query.get("access_token")
        return self.state.token(value)

    def _route(
        self, method: str, rest: str, query: dict[str, str], body: Any, headers: dict[str, str], raw: bytes
    ) -> Any:
        parts = rest.split("/")
        if rest == "oauth/access_token" and method == "GET":
            return self._exchange_code(query)
        if rest == "debug_token" and method == "GET":
            return self._debug_token(query, headers)
        token = self._token(query, headers)
        head, tail = parts[0], "/".join(parts[1:])
        if tail == "messages" and method == "POST":
            return self._send(token, head, body or {})
        if tail == "message_templates":
            return self._templates(token, method, head, query, body or {})
        if tail == "phone_numbers" and method == "GET":
            self.state.waba_for(token, head)
            return {"data": [self._phone_json(p) for p in self.state.phones.values() if p.waba_id == head]}
        if tail in ("register", "deregister") and method == "POST":
            return self._register(token, head, tail, body or {})
        if tail == "subscribed_apps":
            return self._subscriptions(token, method, head, body)
        if tail == "whatsapp_business_profile":
            self.state.phone_for(token, head)
            return (
                {"data": [{"about": "Simulated business", "messaging_product": "whatsapp"}]}
                if method == "GET"
                else {"success": True}
            )
        if tail == "media" and method == "POST":
            return self._upload_media(token, head, raw, headers)
        if not tail and method == "GET":
            return self._object(token, head)
        if not tail and method == "POST" and head in self.state.templates:
            return self._edit_template(token, head, body or {})
        raise GraphFault(400, 100, f"Unsupported {method.lower()} request.", error_type="GraphMethodException")

    # ---- control API (/_sim/) -------------------------------------------------------------------

    def _control(self, method: str, path: str, raw: bytes) -> tuple[int, Any]:
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return 400, {"error": "invalid JSON"}
        state = self.state
        if path == "/_sim/sandbox" and method == "GET":
            return 200, state.sandbox
        if path == "/_sim/businesses" and method == "POST":
            # A fresh sandbox business (WABA + number + token) per workspace that connects the sandbox.
            return 200, state.create_business(
                name=body.get("name", "Sandbox Business"),
                display_number=body.get("display_number", "+1 555 010 0100"),
                verified_name=body.get("name", "Sandbox Business"),
                kind=body.get("token_type", "SYSTEM_USER"),
            )
        if path == "/_sim/signup" and method == "POST":
            return 200, state.create_signup(
                name=body.get("name", "New Business"),
                display_number=body.get("display_number", "+1 555 010 0002"),
                kind=body.get("token_type", "SYSTEM_USER"),
            )
        if path == "/_sim/tokens" and method == "POST":
            token = state.add_token(
                waba_ids=list(body.get("waba_ids", [])),
                kind=body.get("token_type", "SYSTEM_USER"),
                scopes=body.get("scopes"),
            )
            return 200, {"token": token}
        if path == "/_sim/faults" and method == "POST":
            state.faults = Faults(**body)
            return 200, {"ok": True}
        if path == "/_sim/requests" and method == "GET":
            with state.lock:
                return 200, {"requests": list(state.requests), "sends_per_recipient": state.sends_per_recipient()}
        if path == "/_sim/messages" and method == "GET":
            with state.lock:  # what customers received (a media message with its media id)
                return 200, {"messages": list(state.messages)}
        if path == "/_sim/reset" and method == "POST":
            with state.lock:
                state.requests.clear()
                state.messages.clear()
                state.media.clear()
                state.media_files.clear()
                state.faults = Faults()
            return 200, {"ok": True}
        if path == "/_sim/inbound" and method == "POST":
            return self._inbound(body)
        match = re.fullmatch(r"/_sim/templates/(\d+)/status", path)
        if match and method == "POST" and match.group(1) in state.templates:
            template = state.templates[match.group(1)]
            template.status = body.get("status", "PAUSED")
            self.template_status_webhook(template, reason=body.get("reason"))
            return 200, {"ok": True}
        match = re.fullmatch(r"/_sim/phones/(\d+)", path)
        if match and method == "POST" and match.group(1) in state.phones:
            self.quality_change(match.group(1), quality=body.get("quality_rating"), tier=body.get("tier"))
            return 200, {"ok": True}
        match = re.fullmatch(r"/_sim/tokens/([^/]+)", path)
        if match and method == "POST" and match.group(1) in state.tokens:
            token = state.tokens[match.group(1)]
            token.is_valid = body.get("is_valid", token.is_valid)
            token.expires_at = body.get("expires_at", token.expires_at)
            token.scopes = body.get("scopes", token.scopes)
            token.kind = body.get("token_type", token.kind)
            return 200, {"ok": True}
        return 404, {"error": f"unknown control route {method} {path}"}

    def _inbound(self, body: dict[str, Any]) -> tuple[int, Any]:
        """A customer's message. A media one may bring its file: {"type": "image", "content":
        {"bytes_b64", "mime_type", "caption"}} or {"content": {"image": {...}}}."""
        phone_number_id = body.get("phone_number_id", self.state.sandbox["phone_number_id"])
        if phone_number_id not in self.state.phones:
            return 400, {"error": f"no simulated phone number {phone_number_id}"}
        message_type, content = body.get("type"), body.get("content")
        if (
            message_type is None
            and isinstance(content, dict)
            and len(content) == 1
            and next(iter(content)) in MEDIA_KINDS
        ):
            message_type, content = next(iter(content.items()))
        message_type = message_type or "text"
        if message_type in MEDIA_KINDS and isinstance(content, dict) and "bytes_b64" in content:
            try:
                content = self.inbound_media(phone_number_id, message_type, content)
            except ValueError as error:
                return 400, {"error": str(error)}
        payload = self.inbound_message(
            phone_number_id=phone_number_id,
            sender=body.get("from", "919812345621"),
            name=body.get("name", "Customer"),
            message_type=message_type,
            content=content,
        )
        return 200, payload


__all__ = ["ALL_SCOPES", "SimulatorServer"]
