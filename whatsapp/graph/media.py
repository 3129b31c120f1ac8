"""Reading a media file from the short-lived URL Meta's GET /{media-id} answers with.

The URL comes from an answer we cannot fully trust (a forged or replayed one could name any
address), and the request carries the business token: only Meta's media hosts over HTTPS (or the
sandbox simulator) are fetched, redirects are followed only to such hosts, and the body is read in
chunks up to a cap, whatever its Content-Length says.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings

from whatsapp.graph.errors import GraphPermanentError, from_response, network_error

KB, MB = 1024, 1024 * 1024


@dataclass(frozen=True)
class MediaType:
    kind: str  # the message type that carries it
    max_bytes: int


# What the Cloud API takes, by MIME type, and how large (Meta's "Supported media types").
MEDIA_TYPES: dict[str, MediaType] = {
    **dict.fromkeys(("image/jpeg", "image/png"), MediaType("image", 5 * MB)),
    **dict.fromkeys(("video/mp4", "video/3gpp"), MediaType("video", 16 * MB)),
    **dict.fromkeys(("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"), MediaType("audio", 16 * MB)),
    "image/webp": MediaType("sticker", 500 * KB),  # animated; a static sticker at most 100 KB
    **dict.fromkeys(
        (
            "text/plain",
            "application/pdf",
            "application/msword",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.ms-excel",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.ms-powerpoint",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        MediaType("document", 100 * MB),
    ),
}
MEDIA_MAX_BYTES = 100 * MB  # Meta's largest media (documents)
# lookaside.fbsbx.com serves the Cloud API's media; Meta's CDNs may serve it too.
META_MEDIA_DOMAINS = ("fbsbx.com", "fbcdn.net")
MAX_REDIRECTS = 3
CHUNK_BYTES = 64 * 1024


class MediaTooLarge(GraphPermanentError):
    """The file is larger than the caller accepts; what was read is dropped."""

    def __init__(self, *, limit: int, size: int | None = None) -> None:
        self.limit, self.size = limit, size
        super().__init__(f"The media file is larger than {limit} bytes.")


class MediaHostRefused(GraphPermanentError):
    """The media URL names a host that is neither Meta's nor the sandbox: nothing was fetched."""


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").rstrip(".").lower(), port


def media_url_allowed(url: str) -> bool:
    """Meta's media hosts over HTTPS; the sandbox simulator while the sandbox is enabled; in
    development also the Graph base URL (a simulator standing in for Meta)."""
    try:
        scheme, host, port = _origin(url)
        parts = urlsplit(url)
    except ValueError:  # an invalid port or IPv6 literal
        return False
    if scheme not in ("http", "https") or not host or parts.username or parts.password:
        return False
    if scheme == "https" and port == 443 and any(host == d or host.endswith("." + d) for d in META_MEDIA_DOMAINS):
        return True
    trusted = [settings.META_SANDBOX_URL] if settings.SANDBOX_ENABLED else []
    if not settings.IS_DEPLOYED:
        trusted.append(settings.META_GRAPH_BASE_URL)
    return (scheme, host, port) in {_origin(base) for base in trusted if base}


def read_media(get: Callable[[str], requests.Response], url: str, *, max_bytes: int) -> bytes:
    """The body behind `url`, fetched with `get` (an authenticated GET without redirects)."""
    for _hop in range(MAX_REDIRECTS + 1):
        if not media_url_allowed(url):
            raise MediaHostRefused("Meta's media URL names a host that is not Meta's: nothing was fetched.")
        with get(url) as response:
            if response.is_redirect:
                url = urljoin(url, response.headers.get("Location", ""))
                continue
            if response.status_code >= 400:
                raise from_response(response.status_code, _error_body(response))
            return _capped_body(response, max_bytes)
    raise GraphPermanentError("Meta's media URL redirected too many times.")


def _error_body(response: requests.Response) -> Any:
    """Meta's error JSON, when the start of the body is one (an error page is not read whole)."""
    try:
        return json.loads(next(response.iter_content(64 * 1024), b"") or b"null")
    except (ValueError, requests.RequestException):
        return None


def _capped_body(response: requests.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise MediaTooLarge(limit=max_bytes, size=int(declared))
    chunks: list[bytes] = []
    total = 0
    try:
        for chunk in response.iter_content(CHUNK_BYTES):
            total += len(chunk)
            if total > max_bytes:
                raise MediaTooLarge(limit=max_bytes)
            chunks.append(chunk)
    except requests.RequestException as error:
        raise network_error(error) from None
    return b"".join(chunks)
