"""Uploading a CSV: refuse what cannot be imported, keep the file encrypted, suggest a mapping."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from collections.abc import Iterator
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.db import transaction

from aerostic.core import audit
from aerostic.core.tenant_context import require_tenant_id
from contacts.importing.errors import ImportRefused
from contacts.importing.reading import read_rows, sniff
from contacts.models import AttributeDefinition, ContactImport

DEFAULT_MAX_BYTES = 50 * 1024 * 1024

PHONE_NAMES = {"phone", "mobile", "whatsapp", "number", "cell", "msisdn", "tel", "telephone", "wa_id"}
_PHONE_WORDS = ("phone", "mobile", "whatsapp", "msisdn")
_SIMPLE_TARGETS = {
    "name": {"name", "full_name", "fullname", "contact_name", "customer_name", "display_name"},
    "tags": {"tags", "tag", "labels", "label", "groups"},
    "language": {"language", "lang", "locale", "preferred_language"},
    "timezone": {"timezone", "time_zone", "tz"},
}
CONSENT_NAMES = {
    "consent",
    "opt_in",
    "optin",
    "opted_in",
    "subscribed",
    "marketing_consent",
    "whatsapp_consent",
    "marketing_opt_in",
    "accepts_marketing",
}


def max_upload_bytes() -> int:
    return int(getattr(settings, "CONTACT_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def _clean_filename(filename: str) -> str:
    # Browsers on Windows may send a full path; keep only the name.
    name = PureWindowsPath(PurePosixPath(filename or "").name).name.strip()
    return (name or "contacts.csv")[:255]


def _size_text(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def _too_large(size: int) -> ImportRefused:
    return ImportRefused(
        f"The file is {_size_text(size)}; files up to {_size_text(max_upload_bytes())} can be imported. "
        "Split it into smaller files.",
        code="too_large",
    )


class OversizeUpload(UploadedFile):
    """What the view gets for a file past the limit: its name and full size, none of its bytes."""

    def __init__(self, *, name: str, content_type: str, size: int) -> None:
        super().__init__(file=io.BytesIO(), name=name, content_type=content_type, size=size)

    def read(self, *args: Any, **kwargs: Any) -> bytes:
        raise _too_large(self.size or 0)

    def chunks(self, *args: Any, **kwargs: Any) -> Iterator[bytes]:
        raise _too_large(self.size or 0)


class UploadSizeCap(FileUploadHandler):
    """The first of settings.FILE_UPLOAD_HANDLERS (a contact CSV is the only file the app takes):
    the bytes of a file past CONTACT_IMPORT_MAX_BYTES are counted but handed to no later handler,
    so they are neither kept in memory nor written to disk; the view gets an `OversizeUpload`."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.limit = max_upload_bytes()
        self.too_large = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if self.too_large or start + len(raw_data) > self.limit:
            self.too_large = True
            return None
        return raw_data

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if not self.too_large:
            return None  # the memory or temporary-file handler builds the file
        return OversizeUpload(name=self.file_name or "", content_type=self.content_type or "", size=file_size)


def import_upload_read(upload: Any) -> bytes:
    """An uploaded file's bytes for `import_upload`: refused by the size the upload handlers
    measured before a byte is read, and never more than one byte past the limit read whatever
    the object claims."""
    limit = max_upload_bytes()
    if upload.size is not None and upload.size > limit:
        raise _too_large(upload.size)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise _too_large(len(data))
    return data


@transaction.atomic
def import_upload(*, data: bytes, filename: str, actor: Any, request: Any = None) -> ContactImport:
    """Stores an uploaded CSV (encrypted) with its encoding, separator, header and row count, or
    raises ImportRefused with the reason; nothing is stored for a refused file. The portal and
    the API pass `import_upload_read(upload)`, which checks the size before reading."""
    if len(data) > max_upload_bytes():
        raise _too_large(len(data))
    if not data.strip():
        raise ImportRefused("The file is empty.", code="empty")
    dialect, text, header = sniff(data)
    total = sum(1 for _ in read_rows(text, dialect.delimiter))
    if total == 0:
        raise ImportRefused("The file has a header row but no contacts below it.", code="empty")
    contact_import = ContactImport(
        tenant_id=require_tenant_id(),
        filename=_clean_filename(filename),
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content=base64.b64encode(data).decode("ascii"),
        encoding=dialect.encoding,
        delimiter=dialect.delimiter,
        header=header,
        mapping=suggest_mapping(header),
        consent_column=suggest_consent_column(header),
        total_rows=total,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    contact_import.save()
    audit.record(
        "contact.import_upload",
        actor=actor,
        tenant=contact_import.tenant_id,
        target=contact_import,
        request=request,
        metadata={"rows": total, "size_bytes": len(data), "encoding": dialect.encoding},
    )
    return contact_import


def file_text(contact_import: ContactImport) -> str:
    """The uploaded file as text (decrypted, decoded with the encoding found at upload)."""
    if not contact_import.content:
        raise ImportRefused("The file of this import is no longer kept: upload it again.", code="gone")
    data = base64.b64decode(contact_import.content.reveal())
    return data.decode(contact_import.encoding or "utf-8")


def import_preview(contact_import: ContactImport, *, rows: int = 5) -> list[dict[str, str]]:
    """The first `rows` contacts of the file as column → value, for the mapping page."""
    header = list(contact_import.header)
    preview: list[dict[str, str]] = []
    for _number, cells in read_rows(file_text(contact_import), contact_import.delimiter or ","):
        if len(preview) >= rows:
            break
        preview.append({column: (cells[i] if i < len(cells) else "") for i, column in enumerate(header)})
    return preview


def _slug(column: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", column.strip().lower()).strip("_")


def suggest_mapping(header: list[str]) -> dict[str, str]:
    """column → target (phone / name / tags / language / timezone / attr:<key> / ignore), guessed
    from the column names; the first phone-like column is the phone, every other guess once."""
    attribute_keys = {_slug(key): key for key in AttributeDefinition.objects.values_list("key", flat=True)}
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    slugs = [_slug(column) for column in header]
    phone_column = next((c for c, s in zip(header, slugs, strict=True) if s in PHONE_NAMES), None)
    if phone_column is None:
        phone_column = next(
            (c for c, s in zip(header, slugs, strict=True) if any(word in s for word in _PHONE_WORDS)), None
        )
    for column, slug in zip(header, slugs, strict=True):
        target = "ignore"
        if column == phone_column:
            target = "phone"
        elif slug in attribute_keys:
            target = f"attr:{attribute_keys[slug]}"
        else:
            target = next((t for t, names in _SIMPLE_TARGETS.items() if slug in names), "ignore")
        if target != "ignore" and target in taken and target != "tags":
            target = "ignore"
        taken.add(target)
        mapping[column] = target
    return mapping


def suggest_consent_column(header: list[str]) -> str:
    return next((column for column in header if _slug(column) in CONSENT_NAMES), "")
