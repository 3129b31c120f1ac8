"""Which files an agent may attach: Meta's types and size limits (whatsapp.graph.media.MEDIA_TYPES),
the declared type checked against the file's first bytes where that is cheap, and the refusals
said so a person knows what to send instead."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from aerostic.core.errors import DomainError
from whatsapp.graph.media import KB, MB, MEDIA_MAX_BYTES, MEDIA_TYPES

STATIC_STICKER_MAX_BYTES = 100 * KB  # an animated sticker may have Meta's 500 KB
KIND_MAX_BYTES = {
    kind: max(rule.max_bytes for rule in MEDIA_TYPES.values() if rule.kind == kind)
    for kind in {rule.kind for rule in MEDIA_TYPES.values()}
}
KIND_LABELS = {
    "image": "Images",
    "video": "Videos",
    "audio": "Audio files",
    "document": "Documents",
    "sticker": "Stickers",
}
WHAT_WHATSAPP_TAKES = (
    "JPEG or PNG images, MP4 or 3GPP videos, AAC, AMR, MP3, M4A or OGG audio, WEBP stickers, "
    "or PDF, text, Word, Excel or PowerPoint documents"
)
# Shown in the page; everything else is a download (and never rendered by the browser).
INLINE_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/webp", "video/mp4", "video/3gpp"}
    | {mime for mime, rule in MEDIA_TYPES.items() if rule.kind == "audio"}
)
EXTENSIONS = {"image/jpeg": ".jpg", "audio/ogg": ".ogg", "audio/mpeg": ".mp3", "text/plain": ".txt"}
# Names some browsers and systems give to types Meta knows by another.
_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "audio/mp3": "audio/mpeg",
    "audio/x-m4a": "audio/mp4",
    "audio/m4a": "audio/mp4",
    "audio/opus": "audio/ogg",
    "application/ogg": "audio/ogg",
}
_UNTYPED = ("", "application/octet-stream", "binary/octet-stream")

_DOCX = "application/vnd.openxmlformats-officedocument."
_OLE = "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1".encode("latin-1")
# What the first bytes of each type are; a type not listed has no cheap signature, and its content
# must then look like none of these (a PNG sent as "text/plain" is refused).
_EXPECTED: dict[str, frozenset[str | None]] = {
    "image/jpeg": frozenset({"jpeg"}),
    "image/png": frozenset({"png"}),
    "image/webp": frozenset({"webp"}),
    "video/mp4": frozenset({"ftyp"}),
    "video/3gpp": frozenset({"ftyp"}),
    "audio/mp4": frozenset({"ftyp"}),
    "audio/ogg": frozenset({"ogg"}),
    "audio/amr": frozenset({"amr"}),
    "audio/mpeg": frozenset({"id3", None}),  # MP3 frames have no fixed start
    "application/pdf": frozenset({"pdf"}),
    "application/msword": frozenset({"ole"}),
    "application/vnd.ms-excel": frozenset({"ole"}),
    "application/vnd.ms-powerpoint": frozenset({"ole"}),
    _DOCX + "wordprocessingml.document": frozenset({"zip"}),
    _DOCX + "spreadsheetml.sheet": frozenset({"zip"}),
    _DOCX + "presentationml.presentation": frozenset({"zip"}),
}
_BY_SIGNATURE = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "ftyp": "video/mp4",
    "ogg": "audio/ogg",
    "amr": "audio/amr",
    "id3": "audio/mpeg",
    "pdf": "application/pdf",
}
_NAMES = {
    "jpeg": "a JPEG image",
    "png": "a PNG image",
    "webp": "a WEBP image",
    "ftyp": "an MP4 file",
    "ogg": "an OGG file",
    "amr": "an AMR file",
    "id3": "an MP3 file",
    "pdf": "a PDF",
    "zip": "a ZIP archive",
    "ole": "an old Office file",
}


@dataclass(frozen=True)
class CheckedUpload:
    mime_type: str
    kind: str
    size: int
    filename: str


def clean_filename(name: str) -> str:
    """A file name to show and to offer on download: no folders, no control characters, no quotes."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name
    return "".join(ch for ch in base if ch.isprintable() and ch not in '"\\/').strip()[:255]


def signature(head: bytes) -> str | None:
    """The file type its first bytes show, for the types where that is cheap."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp":
        return "ftyp"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"#!AMR"):
        return "amr"
    if head.startswith(b"ID3"):
        return "id3"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(_OLE):
        return "ole"
    return None


def is_animated_webp(head: bytes) -> bool:
    # An extended WebP (VP8X chunk) says in its flags byte whether it has an animation.
    return head[12:16] == b"VP8X" and len(head) > 20 and bool(head[20] & 0x02)


def size_text(size: int) -> str:
    """5 MB, 7.2 MB, 500 KB: rounded up, so a file just over a limit never reads as the limit."""
    if size >= MB:
        return f"{-(-size * 10 // MB) / 10:g} MB"
    return f"{-(-size // KB)} KB"


def media_check(upload: Any) -> CheckedUpload:
    """The type and kind of an uploaded file (UploadedFile: name, size, content_type, read/seek),
    or DomainError saying why WhatsApp would not take it. Reads the first bytes only."""
    size = int(upload.size or 0)
    filename = clean_filename(str(upload.name or ""))
    if size > MEDIA_MAX_BYTES:
        raise DomainError(
            f"Files may be at most {size_text(MEDIA_MAX_BYTES)} (this one is {size_text(size)}).", code="too_large"
        )
    if size == 0:
        raise DomainError("The file is empty.", code="empty")
    upload.seek(0)
    head = upload.read(32)
    upload.seek(0)
    found = signature(head)
    declared = str(getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
    declared = _ALIASES.get(declared, declared)
    mime_type = declared
    if declared in _UNTYPED:
        guessed = mimetypes.guess_type(filename)[0] or ""
        mime_type = _BY_SIGNATURE.get(found or "") or _ALIASES.get(guessed, guessed)
    rule = MEDIA_TYPES.get(mime_type)
    if rule is None:
        shown = mime_type or "files of this type"
        raise DomainError(f"WhatsApp does not take {shown}: send {WHAT_WHATSAPP_TAKES}.", code="unsupported_type")
    if found not in _EXPECTED.get(mime_type, frozenset({None})):
        actually = _NAMES.get(found or "", "something else")
        raise DomainError(
            f"This file says it is {mime_type} but its content is {actually}: export it again as the type it claims.",
            code="type_mismatch",
        )
    limit = rule.max_bytes
    label = KIND_LABELS[rule.kind]
    if rule.kind == "sticker" and not is_animated_webp(head):
        limit, label = STATIC_STICKER_MAX_BYTES, "Static stickers"
    if size > limit:
        raise DomainError(
            f"{label} may be at most {size_text(limit)} (this one is {size_text(size)}).", code="too_large"
        )
    return CheckedUpload(mime_type=mime_type, kind=rule.kind, size=size, filename=filename)
