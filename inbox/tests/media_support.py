"""Helpers for the media tests: a customer's file sent through the simulator's /_sim/inbound and
processed by the real webhook path, sample files of each type, and what the simulator saw."""

from __future__ import annotations

import base64
from typing import Any

import requests
from django.urls import reverse

from aerostic.core.tenant_context import tenant_context
from aerostic.testsupport.webhooks import deliver_webhook
from inbox.models import Message

CUSTOMER = "919812345621"
KB, MB = 1024, 1024 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 300
PDF = b"%PDF-1.7\n" + b"0" * 300
OGG = b"OggS" + b"\x00" * 300


def webp(size: int, *, animated: bool = False) -> bytes:
    flags = b"\x02" if animated else b"\x00"
    head = b"RIFF" + (size - 8).to_bytes(4, "little") + b"WEBPVP8X" + b"\x0a\x00\x00\x00" + flags
    return head + b"\x00" * (size - len(head))


def temporary_media_root(settings, tmp_path):
    """For a module's `media_root` fixture: files stored by the test go to its own folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def stored_files(media_root) -> list:
    return [path for path in media_root.rglob("*") if path.is_file()] if media_root.exists() else []


def customer_sends(simulator, phone, *, kind: str = "image", data: bytes = PNG, **content: Any) -> Message:
    """The customer sends a file; the webhook goes through our intake and processing."""
    content = {"bytes_b64": base64.b64encode(data).decode(), "mime_type": "image/png", **content}
    payload = requests.post(
        f"{simulator.url}/_sim/inbound",
        json={
            "phone_number_id": phone.phone_number_id,
            "from": CUSTOMER,
            "name": "Asha",
            "type": kind,
            "content": content,
        },
        timeout=5,
    ).json()
    assert deliver_webhook(payload).status == "processed"
    wamid = payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    with tenant_context(phone.tenant_id):
        return Message.objects.select_related("conversation").get(wamid=wamid)


def media_url(message: Message) -> str:
    return reverse("inbox:media", args=[message.pk])


def graph_calls(simulator, media_id: str) -> dict[str, int]:
    """How often the simulator was asked for the media's URL and for its bytes."""
    requests_made = simulator.state.requests
    return {
        "get_media": sum(1 for r in requests_made if r["method"] == "GET" and r["path"].endswith(f"/{media_id}")),
        "download": sum(1 for r in requests_made if r["path"] == f"/_sim/media/{media_id}/download"),
        "upload": sum(1 for r in requests_made if r["method"] == "POST" and r["path"].endswith("/media")),
    }


def uploads(simulator) -> list[dict[str, Any]]:
    return [r for r in simulator.state.requests if r["method"] == "POST" and r["path"].endswith("/media")]
