"""The simulator's Graph endpoints for accounts: Embedded Signup's code exchange, debug_token, reading
WABAs, numbers and templates by id, registering numbers, app subscriptions."""

from __future__ import annotations

import re
import time
from typing import Any

from whatsapp.simulator import webhooks
from whatsapp.simulator.state import (
    GraphFault,
    SimulatorState,
)


class AccountRoutes:
    """Graph endpoints for accounts, numbers and tokens (a part of SimulatorServer)."""

    # Set by SimulatorServer.__init__: this class is one of its parts.
    state: SimulatorState
    webhooks: webhooks.WebhookSender

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
            return self._media_json(token, object_id)  # MediaRoutes, another part of SimulatorServer
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
