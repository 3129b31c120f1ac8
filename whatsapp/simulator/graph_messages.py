"""The simulator's Graph endpoint for sending messages: Meta's validation and errors, the template
lookup, and the sent / delivered / read (or failed) statuses it posts back later."""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

from whatsapp.simulator import webhooks
from whatsapp.simulator.graph_media import MEDIA_KINDS
from whatsapp.simulator.state import (
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


class MessageRoutes:
    """The /messages endpoint (a part of SimulatorServer)."""

    # Set by SimulatorServer.__init__: this class is one of its parts.
    state: SimulatorState
    webhooks: webhooks.WebhookSender

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
        received: dict[str, Any] = {
            "wamid": wamid,
            "to": to,
            "type": kind,
            "phone_number_id": phone.id,
            "ts": time.time(),
        }
        if kind == "text":  # what the customer's phone shows (tests and the demo read it)
            received["text"] = str(body["text"].get("body", ""))
        if kind in MEDIA_KINDS:
            received["media"] = self.sent_media(body[kind])  # MediaRoutes, another part of SimulatorServer
        with self.state.lock:
            self.state.messages.append(received)
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
