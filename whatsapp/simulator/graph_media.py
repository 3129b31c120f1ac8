"""The simulator's media: uploads (multipart POST /{phone}/media) kept with their bytes, type, size
and sha256; GET /{media-id} answering a short-lived URL on the simulator itself, whose download
needs the bearer token, as Meta's lookaside URLs do; a customer's media for /_sim/inbound; and what
a sent media message carried, recorded for tests ("the customer received the attachment")."""

from __future__ import annotations

import base64
import binascii
import email.parser
import email.policy
import hashlib
import time
from dataclasses import dataclass
from typing import Any

from whatsapp.graph.media import MEDIA_TYPES
from whatsapp.simulator.state import GraphFault, SimulatorState, StoredMedia

MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")
URL_SECONDS = 300  # Meta's media URLs expire after five minutes
_DEFAULT_MIME = {
    "image": "image/jpeg",
    "video": "video/mp4",
    "audio": "audio/ogg",
    "document": "application/pdf",
    "sticker": "image/webp",
}


@dataclass
class RawBody:
    """A response that is not JSON (a media file's bytes)."""

    data: bytes
    content_type: str


def multipart_fields(raw: bytes, content_type: str) -> dict[str, Any]:
    """A multipart/form-data body: text fields as str, file fields as (filename, mime, bytes)."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    fields: dict[str, Any] = {}
    if not message.is_multipart():
        return fields
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            fields[name] = (filename, part.get_content_type(), payload)
        else:
            fields[name] = payload.decode("utf-8", "replace")
    return fields


def form_summary(raw: bytes, content_type: str) -> dict[str, Any]:
    """What the request log keeps of a form: its fields, and of a file its name, type, size and
    sha256 (never the bytes)."""
    summary: dict[str, Any] = {"_form": True}
    if "multipart/form-data" not in content_type:
        return summary
    for name, value in multipart_fields(raw, content_type).items():
        if isinstance(value, tuple):
            filename, mime, data = value
            summary[name] = {
                "filename": filename,
                "mime_type": mime,
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        else:
            summary[name] = value
    return summary


class MediaRoutes:
    """Media endpoints (a part of SimulatorServer)."""

    # Set by SimulatorServer: this class is one of its parts.
    state: SimulatorState
    url: str

    def _keep_media(self, *, waba_id: str, data: bytes, mime_type: str) -> str:
        media_id = self.state.next_id()
        with self.state.lock:
            self.state.media[media_id] = {
                "id": media_id,
                "mime_type": mime_type,
                "sha256": hashlib.sha256(data).hexdigest(),
                "file_size": len(data),
            }
            self.state.media_files[media_id] = StoredMedia(data=data, waba_id=waba_id)
        return media_id

    def _upload_media(self, token: Any, phone_id: str, raw: bytes, headers: dict[str, str]) -> Any:
        phone = self.state.phone_for(token, phone_id)
        fields = multipart_fields(raw, headers.get("Content-Type", ""))
        if fields.get("messaging_product") != "whatsapp":
            raise GraphFault(400, 100, "(#100) The parameter messaging_product is required.")
        upload = fields.get("file")
        if not isinstance(upload, tuple):
            raise GraphFault(400, 100, "(#100) The parameter file is required.")
        _filename, part_type, data = upload
        mime_type = str(fields.get("type") or part_type).split(";")[0].strip().lower()
        rule = MEDIA_TYPES.get(mime_type)
        if rule is None:
            raise GraphFault(400, 131053, "Media upload error", details=f"Unsupported file type {mime_type}.")
        if len(data) > rule.max_bytes:
            raise GraphFault(
                400, 131053, "Media upload error", details=f"{rule.kind} files may be at most {rule.max_bytes} bytes."
            )
        return {"id": self._keep_media(waba_id=phone.waba_id, data=data, mime_type=mime_type)}

    def _media_json(self, token: Any, media_id: str) -> dict[str, Any]:
        stored = self.state.media_files.get(media_id)
        if stored is not None and stored.waba_id not in token.waba_ids:
            raise GraphFault(
                400,
                100,
                f"Unsupported get request. Object with ID '{media_id}' does not exist",
                subcode=33,
                error_type="GraphMethodException",
            )
        expires = int(time.time()) + URL_SECONDS
        return {
            **self.state.media[media_id],
            "url": f"{self.url}/_sim/media/{media_id}/download?expires={expires}",
            "messaging_product": "whatsapp",
        }

    def _media_download(self, media_id: str, query: dict[str, str], headers: dict[str, str]) -> tuple[int, Any]:
        """Meta's lookaside answers 404 for an expired or unknown URL, 401 without a valid token."""
        auth = headers.get("Authorization", "")
        try:
            token = self.state.token(auth[7:] if auth.startswith("Bearer ") else None)
        except GraphFault as fault:
            return fault.status, fault.body()
        stored = self.state.media_files.get(media_id)
        expires = query.get("expires", "")
        if stored is None or not expires.isdigit() or int(expires) < time.time():
            return 404, {"error": {"message": "URL expired or not found", "code": 100, "type": "OAuthException"}}
        if stored.waba_id not in token.waba_ids:
            return 403, {"error": {"message": "Not allowed", "code": 10, "type": "OAuthException"}}
        return 200, RawBody(stored.data, self.state.media[media_id]["mime_type"])

    def inbound_media(self, phone_id: str, kind: str, content: dict[str, Any]) -> dict[str, Any]:
        """A customer's file for /_sim/inbound ({"bytes_b64", "mime_type"?, "caption"?,
        "filename"?, "sha256"?}): kept under a new media id; the webhook's object carries the id,
        type and sha256 (base64, as Meta's webhooks do; a given "sha256" is sent instead, to play a
        corrupted file)."""
        try:
            data = base64.b64decode(str(content["bytes_b64"]), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("bytes_b64 is not base64") from None
        phone = self.state.phones[phone_id]
        mime_type = str(content.get("mime_type") or _DEFAULT_MIME[kind])
        media_id = self._keep_media(waba_id=phone.waba_id, data=data, mime_type=mime_type)
        message: dict[str, Any] = {
            "id": media_id,
            "mime_type": mime_type,
            "sha256": content.get("sha256") or base64.b64encode(hashlib.sha256(data).digest()).decode(),
        }
        for key in ("caption", "filename", "animated", "voice"):
            if key in content:
                message[key] = content[key]
        return message

    def sent_media(self, spec: dict[str, Any]) -> dict[str, Any]:
        """What the customer got of a media message: the media id (or link), with the type and
        sha256 of the upload it names, when the simulator has it."""
        media_id = str(spec.get("id") or "")
        known = self.state.media.get(media_id, {})
        sent = {
            "id": media_id or None,
            "link": spec.get("link"),
            "caption": spec.get("caption"),
            "filename": spec.get("filename"),
            "mime_type": known.get("mime_type"),
            "sha256": known.get("sha256"),
        }
        return {key: value for key, value in sent.items() if value is not None}
