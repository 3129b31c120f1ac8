"""Signed webhooks the simulator posts back to the app, shaped like Meta's."""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import logging
import threading
import time
from typing import Any

import requests

logger = logging.getLogger(__name__)


def signature(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def envelope(waba_id: str, field: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "changes": [{"value": value, "field": field}]}],
    }


def metadata(phone: Any) -> dict[str, str]:
    return {
        "display_phone_number": "".join(ch for ch in phone.display_phone_number if ch.isdigit()),
        "phone_number_id": phone.id,
    }


def status_value(
    phone: Any,
    *,
    wamid: str,
    status: str,
    to: str,
    category: str,
    errors: list | None = None,
    callback_data: str = "",
) -> dict[str, Any]:
    item: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(int(time.time())), "recipient_id": to}
    if callback_data:  # Meta echoes the sender's biz_opaque_callback_data in every status
        item["biz_opaque_callback_data"] = callback_data
    if status in ("sent", "delivered") or (status == "read" and category):
        item["pricing"] = {
            "billable": category != "service",
            "pricing_model": "PMP",
            "category": category,
            "type": "regular" if category != "service" else "free_customer_service",
        }
    if errors:
        item["errors"] = errors
    return {"messaging_product": "whatsapp", "metadata": metadata(phone), "statuses": [item]}


class WebhookSender:
    """Posts webhooks from one background thread at their due time; failures are logged, not raised.

    One thread and a heap, not a timer thread per webhook: a campaign makes three statuses per
    message, and starting a thousand threads a second cost the simulator more CPU than answering."""

    def __init__(self, *, url: str | None, app_secret: str) -> None:
        self.url = url
        self.app_secret = app_secret
        self.delivered: list[dict[str, Any]] = []
        self._session = requests.Session()
        self._lock = threading.Lock()
        self._due: list[tuple[float, int, dict[str, Any]]] = []
        self._wake = threading.Condition()
        self._sequence = itertools.count()
        self._thread: threading.Thread | None = None

    def send_later(self, delay: float, payload: dict[str, Any]) -> None:
        with self._wake:
            heapq.heappush(self._due, (time.monotonic() + delay, next(self._sequence), payload))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="simulator-webhooks", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._due or self._due[0][0] > time.monotonic():
                    self._wake.wait(timeout=(self._due[0][0] - time.monotonic()) if self._due else None)
                _at, _sequence, payload = heapq.heappop(self._due)
            self.send_now(payload)

    def send_now(self, payload: dict[str, Any]) -> int | None:
        body = json.dumps(payload, separators=(",", ":")).encode()
        with self._lock:
            self.delivered.append(payload)
        if not self.url:
            return None
        try:
            response = self._session.post(
                self.url,
                data=body,
                timeout=5,
                headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature(self.app_secret, body)},
            )
            return response.status_code
        except requests.RequestException as error:
            logger.warning("simulator webhook not delivered", extra={"error": type(error).__name__})
            return None
