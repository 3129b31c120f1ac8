"""Media of the inbox's messages, kept in Django's default storage (one MediaFile per workspace and
Meta media id): a customer's file fetched from Meta the first time someone opens it, checked
against Meta's size limit and sha256; an agent's attachment checked (type by its first bytes and
its declared type, Meta's size limit), uploaded to Meta and kept the same way so it shows in the
timeline; and both deleted with their messages (GDPR erase, retention: inbox.personal_data).

Files are private: the storage name is random (never the customer's file name) and the bytes are
only ever streamed by the inbox's permission-checked view. The token stays inside the Graph client.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import mimetypes
import secrets
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from aerostic.core.errors import DomainError
from aerostic.core.tenant_context import require_tenant_id
from inbox import media_types
from inbox.media_types import clean_filename
from inbox.models import Conversation, MediaFile, Message
from inbox.replies import CAPTION_MAX, WindowClosed, reply_send, window_open
from inbox.selectors import Agent, conversation_get
from whatsapp.connections.clients import ConnectionProblem, graph_for
from whatsapp.graph import GraphError, MediaTooLarge
from whatsapp.models import OutboundMessage, PhoneNumber

logger = logging.getLogger(__name__)

MEDIA_KINDS = frozenset({"image", "video", "audio", "document", "sticker"})


class NoAttachment(DomainError):
    status_code = 404
    code = "no_attachment"


class MediaUnavailable(DomainError):
    """The message's media went with its content (GDPR erase, retention)."""

    status_code = 410
    code = "media_gone"


class MetaMediaFailed(DomainError):
    """Meta did not hand over (or take) a file, or handed over one we refuse to keep."""

    status_code = 502
    code = "meta_media_failed"


@dataclass(frozen=True)
class MediaReference:
    """What a stored message says of its media."""

    kind: str
    media_id: str
    sha256: str  # as Meta gave it (base64 in webhooks), "" when it gave none
    mime_type: str
    filename: str


def media_reference(message: Message) -> MediaReference:
    payload = message.payload if isinstance(message.payload, dict) else {}
    if payload.get("redacted"):
        raise MediaUnavailable("This attachment is no longer available: the message's content was deleted.")
    kind = str(payload.get("type") or message.type)
    part = payload.get(kind)
    if kind not in MEDIA_KINDS or not isinstance(part, dict) or not part.get("id"):
        raise NoAttachment("This message has no attachment.")
    return MediaReference(
        kind=kind,
        media_id=str(part["id"]),
        sha256=str(part.get("sha256") or ""),
        mime_type=str(part.get("mime_type") or ""),
        filename=clean_filename(str(part.get("filename") or "")),
    )


def message_with_media(agent: Agent, message_id: int) -> Message:
    """A message of a conversation the agent may see (ObjectDoesNotExist otherwise, another
    workspace's included)."""
    message = Message.objects.get(pk=message_id)
    message.conversation = conversation_get(agent, message.conversation_id)
    return message


def media_for_message(message: Message) -> MediaFile:
    """The message's file: the one kept, or fetched once from Meta (get_media, then the download
    with Meta's size limit for its type), its sha256 checked against the message's (else Meta's
    answer's) before anything is kept. MetaMediaFailed says why nothing could be kept."""
    reference = media_reference(message)
    kept = MediaFile.objects.filter(media_id=reference.media_id).first()
    if kept is not None:
        return kept
    limit = media_types.KIND_MAX_BYTES[reference.kind]
    try:
        client = graph_for(message.conversation.phone_number.account)
        answer = client.get_media(reference.media_id)
        declared = _int(answer.get("file_size"))
        if declared > limit:
            raise MediaTooLarge(limit=limit, size=declared)
        data = client.download_media(str(answer.get("url") or ""), max_bytes=limit)
    except MediaTooLarge as error:
        raise MetaMediaFailed(
            f"This file is larger than WhatsApp allows for {reference.kind} messages "
            f"({media_types.size_text(limit)}): it was not downloaded."
        ) from error
    except (GraphError, ConnectionProblem) as error:
        raise MetaMediaFailed(f"Meta did not hand over this file: {_describe(error)}") from error
    expected = reference.sha256 or str(answer.get("sha256") or "")
    if not sha256_matches(data, expected):
        raise MetaMediaFailed("The file Meta sent does not match its checksum, so it was not kept. Try again later.")
    mime_type = str(answer.get("mime_type") or reference.mime_type or "application/octet-stream")
    return _keep(
        media_id=reference.media_id,
        data=data,
        mime_type=mime_type,
        sha256=hashlib.sha256(data).hexdigest(),
        filename=reference.filename,
    )


def media_upload(*, phone: PhoneNumber, upload: Any) -> MediaFile:
    """An agent's file (a Django UploadedFile): checked (media_types.media_check), uploaded to Meta
    from the number, kept with Meta's media id and its sha256. Refusals are DomainErrors."""
    checked = media_types.media_check(upload)
    upload.seek(0)
    data = upload.read(checked.size + 1)
    if len(data) != checked.size:
        raise DomainError("The file changed while it was read: upload it again.")
    try:
        media_id = graph_for(phone.account).upload_media(
            phone.phone_number_id,
            filename=checked.filename or f"attachment{_extension(checked.mime_type)}",
            content=data,
            mime_type=checked.mime_type,
        )
    except (GraphError, ConnectionProblem) as error:
        raise MetaMediaFailed(f"Meta did not take the file: {_describe(error)}") from error
    return _keep(
        media_id=media_id,
        data=data,
        mime_type=checked.mime_type,
        sha256=hashlib.sha256(data).hexdigest(),
        filename=checked.filename,
    )


def attachment_send(conversation: Conversation, *, actor: Any, upload: Any, caption: str = "") -> OutboundMessage:
    """An agent's file (with an optional caption) sent to the customer: everything that would
    refuse the reply is checked before the file goes to Meta; the reply is queued through
    inbox.replies.reply_send. Refusals are DomainErrors, and a refused reply keeps no file."""
    checked = media_types.media_check(upload)
    if caption.strip():
        if checked.kind in ("audio", "sticker"):
            raise DomainError(f"WhatsApp shows no caption under {checked.kind} messages: send the text on its own.")
        if len(caption) > CAPTION_MAX:
            raise DomainError(f"A caption holds at most {CAPTION_MAX} characters.")
    if not window_open(conversation):
        raise WindowClosed(
            "The customer's 24-hour window is closed: only an approved template can be sent until they write again."
        )
    media = media_upload(phone=conversation.phone_number, upload=upload)
    try:
        with transaction.atomic():
            return reply_send(conversation, actor=actor, text=caption, media=media)
    except DomainError:
        # No row refers to the file whether the caller's transaction commits or rolls back.
        MediaFile.objects.filter(pk=media.pk).delete()
        media.file.delete(save=False)
        raise


def files_delete_on_commit(names: list[str]) -> None:
    """Removes stored files after the transaction that deleted their rows commits (a rollback
    keeps them, with their rows). A file that cannot be removed is logged, not raised."""

    def delete() -> None:
        for name in names:
            try:
                default_storage.delete(name)
            except Exception:  # storage outage: an orphan file, no lost data
                logger.warning("media file not deleted", extra={"file": name}, exc_info=True)

    if names:
        transaction.on_commit(delete)


def sha256_matches(data: bytes, expected: str) -> bool:
    """Meta gives the hash in hex (GET /{media-id}) or base64 (webhooks)."""
    if not expected:
        return False
    digest = hashlib.sha256(data).digest()
    if secrets.compare_digest(expected.strip().lower(), digest.hex()):
        return True
    try:
        given = base64.b64decode(expected.strip().replace("-", "+").replace("_", "/") + "==")
    except (binascii.Error, ValueError):
        return False
    return secrets.compare_digest(given, digest)


def _keep(*, media_id: str, data: bytes, mime_type: str, sha256: str, filename: str) -> MediaFile:
    """Stores the bytes under a random name, then the row; when a concurrent fetch of the same
    media stored its row first, that row is the answer and these bytes are removed."""
    row = MediaFile(
        tenant_id=require_tenant_id(),
        media_id=media_id,
        mime_type=mime_type[:100],
        size=len(data),
        sha256=sha256,
        filename=filename,
    )
    row.file.save(f"{secrets.token_hex(16)}{_extension(mime_type)}", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        row.file.delete(save=False)
        return MediaFile.objects.get(media_id=media_id)
    return row


def _extension(mime_type: str) -> str:
    base = mime_type.split(";")[0].strip().lower()
    return media_types.EXTENSIONS.get(base) or mimetypes.guess_extension(base) or ""


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _describe(error: Exception) -> str:
    return error.describe() if isinstance(error, GraphError) else str(error)


def inline_safe(mime_type: str) -> bool:
    """Shown in the page (images, video, audio); anything else is offered as a download."""
    return mime_type.split(";")[0].strip().lower() in media_types.INLINE_TYPES


def download_name(media_file: MediaFile, message_id: int) -> str:
    return media_file.filename or f"attachment-{message_id}{_extension(media_file.mime_type)}"
