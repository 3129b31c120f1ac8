"""The simulator's HTTP server: Graph API routes plus a `/_sim/` control API for tests and demos."""

from __future__ import annotations

import json
import random
import re
import secrets
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from whatsapp.simulator import webhooks
from whatsapp.simulator.state import (
    ALL_SCOPES,
    CATEGORIES,
    TEMPLATE_NAME_RE,
    Faults,
    GraphFault,
    SimulatorState,
    Template,
)

MESSAGE_TYPES = {
    "text",
    "template",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "interactive",
    "reaction",
    "location",
    "contacts",
}
Route = tuple[str, re.Pattern[str], Callable[..., Any]]


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog is 5: a campaign opening dozens of keep-alive connections at
    # once overflowed it, and the kernel dropped handshakes (1 s SYN retries, even reset requests).
    request_queue_size = 1024


class SimulatorServer:
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

    # ---- webhooks the simulator emits ---------------------------------------------------------

    def template_status_webhook(self, template: Template, *, reason: str | None = None) -> None:
        value = {
            "event": template.status,
            "message_template_id": int(template.id),
            "message_template_name": template.name,
            "message_template_language": template.language,
            "reason": reason or template.rejected_reason,
        }
        self.webhooks.send_now(webhooks.envelope(template.waba_id, "message_template_status_update", value))

    def inbound_message(
        self,
        *,
        phone_number_id: str,
        sender: str,
        name: str = "Sim Customer",
        message_type: str = "text",
        content: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        phone = self.state.phones[phone_number_id]
        wamid = "wamid.SIM" + secrets.token_hex(12).upper()
        message: dict[str, Any] = {
            "from": sender,
            "id": wamid,
            "timestamp": str(int(time.time())),
            "type": message_type,
        }
        defaults = {
            "text": {"body": "Hello"},
            "reaction": {"message_id": "wamid.X", "emoji": "👍"},
            "location": {"latitude": 12.97, "longitude": 77.59, "name": "Office"},
            "contacts": [
                {
                    "name": {"formatted_name": "Ana Lima", "first_name": "Ana"},
                    "phones": [{"phone": "+55 11 98765 4321", "type": "CELL"}],
                }
            ],
            "image": {"id": self.state.next_id(), "mime_type": "image/jpeg", "sha256": "0" * 64},
            "button": {"payload": "STOP", "text": "Stop promotions"},
            "interactive": {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes"}},
            "unsupported": None,
        }
        if message_type == "unsupported":
            message["errors"] = [
                {
                    "code": 131051,
                    "title": "Message type unknown",
                    "error_data": {"details": "Message type is currently not supported."},
                }
            ]
        else:
            message[message_type] = content or defaults.get(message_type) or {}
        if context:
            message["context"] = context
        value = {
            "messaging_product": "whatsapp",
            "metadata": webhooks.metadata(phone),
            "contacts": [{"profile": {"name": name}, "wa_id": sender}],
            "messages": [message],
        }
        payload = webhooks.envelope(phone.waba_id, "messages", value)
        self.webhooks.send_now(payload)
        return payload

    def quality_change(self, phone_number_id: str, *, quality: str | None = None, tier: str | None = None) -> None:
        phone = self.state.phones[phone_number_id]
        event = "FLAGGED" if quality == "RED" else ("UPGRADE" if tier else "UNFLAGGED")
        if quality:
            phone.quality_rating = quality
        if tier:
            phone.messaging_limit_tier = tier
        value = {
            "display_phone_number": webhooks.metadata(phone)["display_phone_number"],
            "event": event,
            "current_limit": phone.messaging_limit_tier,
        }
        self.webhooks.send_now(webhooks.envelope(phone.waba_id, "phone_number_quality_update", value))

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
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
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
            result = self._route(method, match.group(1), query, body, headers)
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
        return {"_form": True}

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

    def _route(self, method: str, rest: str, query: dict[str, str], body: Any, headers: dict[str, str]) -> Any:
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
            self.state.phone_for(token, head)
            media_id = self.state.next_id()
            self.state.media[media_id] = {"id": media_id, "mime_type": "application/octet-stream"}
            return {"id": media_id}
        if not tail and method == "GET":
            return self._object(token, head)
        if not tail and method == "POST" and head in self.state.templates:
            return self._edit_template(token, head, body or {})
        raise GraphFault(400, 100, f"Unsupported {method.lower()} request.", error_type="GraphMethodException")

    # ---- Graph endpoints ----------------------------------------------------------------------

    def _exchange_code(self, query: dict[str, str]) -> Any:
        code = query.get("code", "")
        with self.state.lock:
            found = self.state.codes.pop(code, None)
        if found is None or found[2] < time.time():
            raise GraphFault(400, 100, "Invalid verification code format.", subcode=36007)
        return {"access_token": found[0], "token_type": "bearer"}

    def _debug_token(self, query: dict[str, str], headers: dict[str, str]) -> Any:
        token = self.state.tokens.get(query.get("input_token", ""))
        if token is None:
            return {
                "data": {
                    "is_valid": False,
                    "error": {"code": 190, "message": "Invalid OAuth access token."},
                    "scopes": [],
                }
            }
        valid = token.is_valid and not (token.expires_at and token.expires_at < time.time())
        return {
            "data": {
                "app_id": "sim-app",
                "type": token.kind,
                "application": "Aerostic Simulator",
                "expires_at": token.expires_at,
                "data_access_expires_at": 0,
                "is_valid": valid,
                "scopes": token.scopes,
                "user_id": "sim-system-user",
                "granular_scopes": [
                    {"scope": scope, "target_ids": token.waba_ids}
                    for scope in token.scopes
                    if scope.startswith("whatsapp")
                ],
            }
        }

    def _phone_json(self, phone: Any) -> dict[str, Any]:
        return {
            "id": phone.id,
            "display_phone_number": phone.display_phone_number,
            "verified_name": phone.verified_name,
            "quality_rating": phone.quality_rating,
            "messaging_limit_tier": phone.messaging_limit_tier,
            "throughput": {"level": phone.throughput},
            "name_status": phone.name_status,
            "code_verification_status": "VERIFIED",
            "platform_type": "CLOUD_API" if phone.registered else "NOT_APPLICABLE",
            "status": phone.status,
        }

    def _object(self, token: Any, object_id: str) -> Any:
        if object_id in self.state.phones:
            return self._phone_json(self.state.phone_for(token, object_id))
        if object_id in self.state.wabas:
            return self.state.waba_for(token, object_id)
        if object_id in self.state.media:
            return {
                **self.state.media[object_id],
                "url": f"https://lookaside.example/{object_id}",
                "messaging_product": "whatsapp",
            }
        if object_id in self.state.templates:
            return self._template_json(self.state.templates[object_id])
        raise GraphFault(
            400,
            100,
            f"Unsupported get request. Object with ID '{object_id}' does not exist",
            subcode=33,
            error_type="GraphMethodException",
        )

    def _register(self, token: Any, phone_id: str, action: str, body: dict[str, Any]) -> Any:
        phone = self.state.phone_for(token, phone_id)
        if action == "register":
            pin = str(body.get("pin", ""))
            if not re.fullmatch(r"\d{6}", pin):
                raise GraphFault(400, 100, "(#100) Param pin must be 6 digits")
            if pin != phone.pin:
                raise GraphFault(
                    400,
                    133005,
                    "Two step verification PIN Mismatch",
                    details="The PIN you entered does not match the two-step verification PIN.",
                )
        phone.registered = action == "register"
        return {"success": True}

    def _subscriptions(self, token: Any, method: str, waba_id: str, body: Any) -> Any:
        self.state.waba_for(token, waba_id)
        if method == "GET":
            sub = self.state.subscriptions.get(waba_id)
            return {
                "data": [
                    {
                        "whatsapp_business_api_data": {"id": "sim-app", "name": "Aerostic"},
                        **({"override_callback_uri": sub["override"]} if sub and sub.get("override") else {}),
                    }
                ]
                if sub
                else []
            }
        if method == "DELETE":
            self.state.subscriptions.pop(waba_id, None)
            return {"success": True}
        override = (body or {}).get("override_callback_uri")
        if override and waba_id not in self.state.subscriptions:
            raise GraphFault(400, 100, "Subscribe the app before overriding its callback URL.")
        self.state.subscriptions[waba_id] = {"override": override}
        return {"success": True}

    def _send(self, token: Any, phone_id: str, body: dict[str, Any]) -> Any:
        phone = self.state.phone_for(token, phone_id)
        if body.get("messaging_product") != "whatsapp":
            raise GraphFault(400, 100, "(#100) The parameter messaging_product is required.")
        if body.get("status") == "read":
            if not str(body.get("message_id", "")).startswith("wamid."):
                raise GraphFault(400, 100, "(#100) Invalid parameter", details="message_id is invalid")
            return {"success": True}
        to = re.sub(r"\D", "", str(body.get("to", "")))
        if not 6 <= len(to) <= 15:
            raise GraphFault(400, 100, "(#100) Invalid parameter", details="Parameter 'to' is not a valid number")
        if to in self.state.faults.rejected:
            code = self.state.faults.rejected[to]
            raise GraphFault(
                400, code, "Recipient cannot receive this message", details=f"Message to {to} refused with {code}"
            )
        kind = body.get("type", "text")
        if kind not in MESSAGE_TYPES or not isinstance(body.get(kind), dict):
            raise GraphFault(
                400, 100, "(#100) Invalid parameter", details=f"Message type '{kind}' needs a '{kind}' object"
            )
        if not phone.registered and phone.id != self.state.sandbox["phone_number_id"]:
            raise GraphFault(
                400, 133010, "Account not registered", details="Register the phone number before sending messages."
            )
        category = "service"
        if kind == "template":
            template = self._find_template(phone.waba_id, body["template"])
            category = template.category.lower()
        elif kind == "text" and not str(body["text"].get("body", "")).strip():
            raise GraphFault(400, 100, "(#100) Invalid parameter", details="text.body is required")
        wamid = "wamid.SIM" + secrets.token_hex(12).upper()
        with self.state.lock:
            self.state.messages.append(
                {"wamid": wamid, "to": to, "type": kind, "phone_number_id": phone.id, "ts": time.time()}
            )
        self._schedule_statuses(phone, wamid, to, category, str(body.get("biz_opaque_callback_data") or "")[:512])
        answer: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": body["to"], "wa_id": to}],
            "messages": [{"id": wamid}],
        }
        if kind == "template":
            answer["messages"][0]["message_status"] = "accepted"
        return answer

    def _find_template(self, waba_id: str, spec: dict[str, Any]) -> Template:
        name, language = spec.get("name"), (spec.get("language") or {}).get("code")
        for template in self.state.templates.values():
            if template.waba_id == waba_id and template.name == name and template.language == language:
                if template.status != "APPROVED":
                    raise GraphFault(
                        400,
                        132015 if template.status == "PAUSED" else 132001,
                        f"Template is {template.status.lower()}",
                        details=f"Template {name} ({language}) is {template.status}",
                    )
                return template
        raise GraphFault(
            400,
            132001,
            "Template name does not exist in the translation",
            details=f"template name ({name}) does not exist in {language}",
        )

    def _schedule_statuses(self, phone: Any, wamid: str, to: str, category: str, callback_data: str = "") -> None:
        undeliverable = self.state.faults.undeliverable.get(to)
        sent = webhooks.envelope(
            phone.waba_id,
            "messages",
            webhooks.status_value(
                phone, wamid=wamid, status="sent", to=to, category=category, callback_data=callback_data
            ),
        )
        self.webhooks.send_later(0.05, sent)
        if undeliverable:
            errors = [
                {
                    "code": undeliverable,
                    "title": "Message undeliverable",
                    "message": "Message undeliverable",
                    "error_data": {"details": "Message could not be delivered"},
                }
            ]
            failed = webhooks.status_value(
                phone, wamid=wamid, status="failed", to=to, category="", errors=errors, callback_data=callback_data
            )
            self.webhooks.send_later(
                self.state.delivery_delays[0], webhooks.envelope(phone.waba_id, "messages", failed)
            )
            return
        for delay, status in zip(self.state.delivery_delays, ("delivered", "read"), strict=True):
            value = webhooks.status_value(
                phone, wamid=wamid, status=status, to=to, category=category, callback_data=callback_data
            )
            self.webhooks.send_later(delay, webhooks.envelope(phone.waba_id, "messages", value))

    def _template_json(self, template: Template) -> dict[str, Any]:
        return {
            "id": template.id,
            "name": template.name,
            "language": template.language,
            "category": template.category,
            "status": template.status,
            "components": template.components,
            "parameter_format": template.parameter_format,
            "rejected_reason": template.rejected_reason,
        }

    def _templates(self, token: Any, method: str, waba_id: str, query: dict[str, str], body: dict[str, Any]) -> Any:
        self.state.waba_for(token, waba_id)
        if method == "GET":
            rows = [t for t in self.state.templates.values() if t.waba_id == waba_id and t.status != "DELETED"]
            rows.sort(key=lambda t: int(t.id))
            limit = max(1, min(int(query.get("limit", 25)), 1000))
            start = int(query["after"]) if query.get("after", "").isdigit() else 0
            page = rows[start : start + limit]
            answer: dict[str, Any] = {"data": [self._template_json(t) for t in page]}
            if page:
                answer["paging"] = {"cursors": {"before": str(start), "after": str(start + len(page))}}
                if start + limit < len(rows):
                    answer["paging"]["next"] = f"/{waba_id}/message_templates?after={start + len(page)}"
            return answer
        if method == "DELETE":
            name = query.get("name")
            matched = [
                t
                for t in self.state.templates.values()
                if t.waba_id == waba_id
                and t.name == name
                and t.status != "DELETED"
                and (not query.get("hsm_id") or t.id == query["hsm_id"])
            ]
            if not matched:
                raise GraphFault(400, 100, "Template not found", subcode=2593002)
            for template in matched:
                template.status = "DELETED"
            return {"success": True}
        return self._create_template(waba_id, body)

    def _create_template(self, waba_id: str, body: dict[str, Any]) -> Any:
        name, category, language = body.get("name", ""), body.get("category", ""), body.get("language", "")
        components = body.get("components")
        if not TEMPLATE_NAME_RE.match(str(name)):
            raise GraphFault(
                400,
                100,
                "Invalid parameter",
                details="Template name may only contain lowercase letters, digits and underscores",
            )
        if category not in CATEGORIES:
            raise GraphFault(400, 100, "Invalid parameter", details=f"Invalid category {category!r}")
        if (
            not language
            or not isinstance(components, list)
            or not any(isinstance(c, dict) and c.get("type") == "BODY" for c in components)
        ):
            raise GraphFault(400, 100, "Invalid parameter", details="language and a BODY component are required")
        for template in self.state.templates.values():
            if (template.waba_id, template.name, template.language) == (
                waba_id,
                name,
                language,
            ) and template.status != "DELETED":
                raise GraphFault(
                    400,
                    100,
                    "Message template already exists",
                    subcode=2388024,
                    details=f"There is already {language} content for this template.",
                )
        template = self.state.add_template(
            waba_id, name=name, language=language, category=category, components=components
        )
        return {"id": template.id, "status": template.status, "category": template.category}

    def _edit_template(self, token: Any, template_id: str, body: dict[str, Any]) -> Any:
        template = self.state.templates[template_id]
        self.state.waba_for(token, template.waba_id)
        if template.status not in ("APPROVED", "REJECTED", "PAUSED"):
            raise GraphFault(
                400,
                100,
                "Template cannot be edited now",
                subcode=2593107,
                details=f"A {template.status} template cannot be edited",
            )
        if template.status == "APPROVED":
            now = time.time()
            recent = [at for at in template.approved_edits if at > now - 30 * 86400]
            if any(at > now - 86400 for at in recent) or len(recent) >= 10:
                raise GraphFault(
                    400,
                    100,
                    "Message template edit limit reached",
                    subcode=2388299,
                    details="An approved template can be edited once in 24 hours and up to 10 times in 30 days.",
                )
            if body.get("category") and body["category"] != template.category:
                raise GraphFault(
                    400, 100, "Invalid parameter", details="The category of an approved template cannot be changed."
                )
            template.approved_edits = [*recent, now]
        if "components" in body:
            template.components = body["components"]
        if "category" in body:
            template.category = body["category"]
        template.status = "PENDING"
        template.review_at = time.time() + self.state.review_seconds
        return {"success": True}

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
        if path == "/_sim/reset" and method == "POST":
            with state.lock:
                state.requests.clear()
                state.messages.clear()
                state.faults = Faults()
            return 200, {"ok": True}
        if path == "/_sim/inbound" and method == "POST":
            payload = self.inbound_message(
                phone_number_id=body.get("phone_number_id", state.sandbox["phone_number_id"]),
                sender=body.get("from", "919812345621"),
                name=body.get("name", "Customer"),
                message_type=body.get("type", "text"),
                content=body.get("content"),
            )
            return 200, payload
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


__all__ = ["ALL_SCOPES", "SimulatorServer"]
