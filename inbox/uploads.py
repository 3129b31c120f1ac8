"""Reading an attachment's upload (inbox:attach and its API): Django's handlers (memory for small
files, a temporary file past FILE_UPLOAD_MAX_MEMORY_SIZE) behind a cap at Meta's largest media
(100 MB) instead of the project-wide cap for contact CSVs; the bytes past it are counted, never
kept, and the view refuses the file by its size."""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import (
    FileUploadHandler,
    MemoryFileUploadHandler,
    TemporaryFileUploadHandler,
)
from django.http import HttpRequest

from whatsapp.graph.media import MEDIA_MAX_BYTES


class OversizeAttachment(UploadedFile):
    """A file past the cap: its name, type and full size, none of its bytes."""

    def __init__(self, *, name: str, content_type: str, size: int) -> None:
        super().__init__(file=io.BytesIO(), name=name, content_type=content_type, size=size)


class AttachmentSizeCap(FileUploadHandler):
    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.too_large = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if self.too_large or start + len(raw_data) > MEDIA_MAX_BYTES:
            self.too_large = True
            return None
        return raw_data

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if not self.too_large:
            return None  # the memory or temporary-file handler built the file
        return OversizeAttachment(name=self.file_name or "", content_type=self.content_type or "", size=file_size)


def use_attachment_upload_handlers(request: HttpRequest) -> None:
    """Before anything reads request.POST / request.FILES (the view must be csrf_exempt and check
    CSRF itself afterwards: the CSRF middleware would read the body with the default handlers)."""
    request.upload_handlers = [
        AttachmentSizeCap(request),
        MemoryFileUploadHandler(request),
        TemporaryFileUploadHandler(request),
    ]
