"""The simulator's world: WABAs, phone numbers, tokens, signup codes, templates, sent messages."""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

TEMPLATE_NAME_RE = re.compile(r"^[a-z0-9_]{1,512}$")
CATEGORIES = {"MARKETING", "UTILITY", "AUTHENTICATION"}
# Content the simulated review refuses, with Meta's rejection reason.
REJECTION_RULES = [
    (re.compile(r"\b(bit\.ly|tinyurl\.com)\b", re.I), "INVALID_FORMAT"),
    (re.compile(r"\b(casino|lottery|guaranteed win)\b", re.I), "PROMOTIONAL"),
    (re.compile(r"REJECT_ME"), "INCORRECT_CATEGORY"),
]
ALL_SCOPES = ["whatsapp_business_messaging", "whatsapp_business_management", "business_management"]


class GraphFault(Exception):
    """Raised inside a handler: becomes Meta's error JSON with this status."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        details: str = "",
        error_type: str = "OAuthException",
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.subcode, self.details = status, code, message, subcode, details
        self.error_type = error_type

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.error_type,
            "code": self.code,
            "fbtrace_id": "Sim" + secrets.token_hex(8),
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.details:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        return {"error": error}


@dataclass
class Faults:
    latency_ms: int = 0
    server_error_rate: float = 0.0  # share of calls answered 500
    throttle_rate: float = 0.0  # share answered 130429
    timeout_rate: float = 0.0  # share that hang for `timeout_seconds`
    timeout_seconds: float = 10.0
    undeliverable: dict[str, int] = field(default_factory=dict)  # recipient → error code, async (failed webhook)
    rejected: dict[str, int] = field(default_factory=dict)  # recipient → error code, answered at once


@dataclass
class Token:
    value: str
    scopes: list[str]
    waba_ids: list[str]
    expires_at: int = 0  # 0: never (system-user tokens)
    is_valid: bool = True
    # debug_token's `type`: "SYSTEM_USER" for system-user tokens, including the business integration
    # system-user token Embedded Signup's code exchange yields; "USER" for a person's token.
    kind: str = "SYSTEM_USER"


@dataclass
class PhoneNumber:
    id: str
    waba_id: str
    display_phone_number: str
    verified_name: str
    quality_rating: str = "GREEN"
    messaging_limit_tier: str = "TIER_1K"
    throughput: str = "STANDARD"
    name_status: str = "APPROVED"
    pin: str = "123456"
    registered: bool = False
    status: str = "CONNECTED"


@dataclass
class Template:
    id: str
    waba_id: str
    name: str
    language: str
    category: str
    components: list[dict[str, Any]]
    status: str = "PENDING"
    rejected_reason: str = "NONE"
    parameter_format: str = "POSITIONAL"
    review_at: float = 0.0
    approved_edits: list[float] = field(default_factory=list)  # when an approved version was edited


@dataclass
class StoredMedia:
    """An uploaded (or a customer's) file: its bytes and the WABA whose tokens may read it."""

    data: bytes
    waba_id: str


class SimulatorState:
    def __init__(self, *, review_seconds: float = 2.0, delivery_delays: tuple[float, float] = (0.3, 1.0)) -> None:
        self.lock = threading.RLock()
        self.review_seconds = review_seconds
        self.delivery_delays = delivery_delays
        self.faults = Faults()
        self.wabas: dict[str, dict[str, Any]] = {}
        self.phones: dict[str, PhoneNumber] = {}
        self.tokens: dict[str, Token] = {}
        self.codes: dict[str, tuple[str, str, float]] = {}  # code → (token, waba id, expires)
        self.templates: dict[str, Template] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.requests: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.media: dict[str, dict[str, Any]] = {}  # Meta's answer to GET /{media-id}, less the url
        self.media_files: dict[str, StoredMedia] = {}  # not kept across restarts: Meta's URLs expire
        self._ids = 10_000_000_000_000
        self.sandbox = self.create_business(
            name="Aerostic Sandbox", display_number="+1 555 010 0001", verified_name="Aerostic Sandbox"
        )

    # ---- persistence (so sandbox connections survive a restart of `make run`) ----------------

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "ids": self._ids,
                "sandbox": self.sandbox,
                "wabas": self.wabas,
                "phones": {k: asdict(v) for k, v in self.phones.items()},
                "tokens": {k: asdict(v) for k, v in self.tokens.items()},
                "templates": {k: asdict(v) for k, v in self.templates.items()},
                "subscriptions": self.subscriptions,
            }

    def save(self, path: Path) -> None:
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.snapshot()))
        temporary.chmod(0o600)
        temporary.replace(path)

    def load(self, path: Path) -> None:
        data = json.loads(path.read_text())
        with self.lock:
            self._ids = data["ids"]
            self.sandbox = data["sandbox"]
            self.wabas = data["wabas"]
            self.phones = {k: PhoneNumber(**v) for k, v in data["phones"].items()}
            self.tokens = {k: Token(**v) for k, v in data["tokens"].items()}
            self.templates = {k: Template(**v) for k, v in data["templates"].items()}
            self.subscriptions = data["subscriptions"]

    def next_id(self) -> str:
        with self.lock:
            self._ids += 1
            return str(self._ids)

    # ---- world building ----------------------------------------------------------------------

    def create_business(
        self,
        *,
        name: str,
        display_number: str,
        verified_name: str,
        scopes: list[str] | None = None,
        kind: str = "SYSTEM_USER",
    ) -> dict[str, str]:
        """A WABA with one phone number and a token for it (a system-user token unless told)."""
        with self.lock:
            waba_id, phone_id, business_id = self.next_id(), self.next_id(), self.next_id()
            self.wabas[waba_id] = {
                "id": waba_id,
                "name": name,
                "currency": "USD",
                "timezone_id": "1",
                "owner_business_info": {"id": business_id, "name": name},
            }
            self.phones[phone_id] = PhoneNumber(phone_id, waba_id, display_number, verified_name)
            token = "EAAsim" + secrets.token_urlsafe(40)
            self.tokens[token] = Token(token, list(scopes or ALL_SCOPES), [waba_id], kind=kind)
            self._add_hello_world(waba_id)
            return {"waba_id": waba_id, "phone_number_id": phone_id, "business_id": business_id, "token": token}

    def _add_hello_world(self, waba_id: str) -> None:
        """Meta gives every new WABA this approved sample template."""
        self.add_template(
            waba_id,
            name="hello_world",
            language="en_US",
            category="UTILITY",
            components=[
                {"type": "HEADER", "format": "TEXT", "text": "Hello World"},
                {
                    "type": "BODY",
                    "text": "Welcome and congratulations!! This message "
                    "demonstrates your ability to send a WhatsApp message notification.",
                },
                {"type": "FOOTER", "text": "WhatsApp Business Platform sample message"},
            ],
            status="APPROVED",
        )

    def create_signup(
        self, *, name: str = "New Business", display_number: str = "+1 555 010 0002", kind: str = "SYSTEM_USER"
    ) -> dict[str, str]:
        """What Embedded Signup hands the browser: a short-lived code plus the new WABA, number and
        business (the session info). The code exchanges for a business integration system-user
        token; `kind="USER"` plays an old-style flow that handed out a person's token."""
        business = self.create_business(name=name, display_number=display_number, verified_name=name, kind=kind)
        code = "simcode-" + secrets.token_urlsafe(16)
        with self.lock:
            self.codes[code] = (business["token"], business["waba_id"], time.time() + 30)
        return {"code": code, **{k: v for k, v in business.items() if k != "token"}}

    def add_token(self, *, waba_ids: list[str], kind: str = "SYSTEM_USER", scopes: list[str] | None = None) -> str:
        """Another token that sees these WABAs (e.g. a person's USER token, for refusal tests)."""
        token = "EAAsim" + secrets.token_urlsafe(40)
        with self.lock:
            self.tokens[token] = Token(token, list(scopes or ALL_SCOPES), list(waba_ids), kind=kind)
        return token

    def add_template(
        self,
        waba_id: str,
        *,
        name: str,
        language: str,
        category: str,
        components: list[dict[str, Any]],
        status: str = "PENDING",
    ) -> Template:
        with self.lock:
            template = Template(
                self.next_id(),
                waba_id,
                name,
                language,
                category,
                components,
                status=status,
                review_at=time.time() + self.review_seconds,
            )
            self.templates[template.id] = template
            return template

    # ---- lookups that raise Meta's errors ----------------------------------------------------

    def token(self, value: str | None) -> Token:
        token = self.tokens.get(value or "")
        if token is None or not token.is_valid or (token.expires_at and token.expires_at < time.time()):
            raise GraphFault(401, 190, "Invalid OAuth access token - Cannot parse access token")
        return token

    def phone_for(self, token: Token, phone_id: str) -> PhoneNumber:
        phone = self.phones.get(phone_id)
        if phone is None or phone.waba_id not in token.waba_ids:
            raise GraphFault(
                400,
                100,
                f"Unsupported post request. Object with ID '{phone_id}' does not exist, "
                "cannot be loaded due to missing permissions, or does not support this operation",
                subcode=33,
                error_type="GraphMethodException",
            )
        return phone

    def waba_for(self, token: Token, waba_id: str) -> dict[str, Any]:
        if waba_id not in self.wabas or waba_id not in token.waba_ids:
            raise GraphFault(
                400,
                100,
                f"Unsupported get request. Object with ID '{waba_id}' does not exist",
                subcode=33,
                error_type="GraphMethodException",
            )
        return self.wabas[waba_id]

    def review_due_templates(self) -> list[Template]:
        """Finish the simulated review of templates whose time has come; returns the changed ones."""
        changed = []
        with self.lock:
            for template in self.templates.values():
                if template.status == "PENDING" and template.review_at <= time.time():
                    body = " ".join(str(c.get("text", "")) for c in template.components)
                    reason = next((why for rule, why in REJECTION_RULES if rule.search(body)), None)
                    template.status = "REJECTED" if reason else "APPROVED"
                    template.rejected_reason = reason or "NONE"
                    changed.append(template)
        return changed

    def log(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.requests.append(entry)

    def sends_per_recipient(self) -> dict[str, int]:
        with self.lock:
            counts: dict[str, int] = {}
            for message in self.messages:
                counts[message["to"]] = counts.get(message["to"], 0) + 1
            return counts
