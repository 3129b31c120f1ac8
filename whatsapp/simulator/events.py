"""Events the simulator emits as signed webhooks: a template's review outcome, a customer's inbound
message, a number's quality or tier change (called by the control API and by tests)."""

from __future__ import annotations

import secrets
import time
from typing import Any

from whatsapp.simulator import webhooks
from whatsapp.simulator.state import (
    SimulatorState,
    Template,
)


class SimulatedEvents:
    """Webhooks for what happens at Meta without the app asking (a part of SimulatorServer)."""

    # Set by SimulatorServer.__init__: this class is one of its parts.
    state: SimulatorState
    webhooks: webhooks.WebhookSender

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
