"""Streamed downloads (CSV exports, stored files): one response helper for WSGI and ASGI alike."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import IO, TypeVar

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, HttpRequest, StreamingHttpResponse

Chunk = TypeVar("Chunk", str, bytes)
FILE_CHUNK_BYTES = 64 * 1024


def _next_chunk(chunks: Iterator[Chunk]) -> Chunk | None:
    return next(chunks, None)


async def _async_chunks(chunks: Iterator[Chunk]) -> AsyncIterator[Chunk]:
    """Under ASGI a synchronous iterator would be read whole before the first byte: read each chunk
    in the sync thread instead."""
    step = sync_to_async(_next_chunk, thread_sensitive=True)
    while (chunk := await step(chunks)) is not None:
        yield chunk


def streaming_download(
    request: HttpRequest, chunks: Iterator[str], *, filename: str, content_type: str = "text/csv"
) -> StreamingHttpResponse:
    """An attachment sent chunk by chunk. The chunks are produced after the view returned, outside
    the request's tenant context: each must enter its own (see the keyset CSV exports)."""
    response = StreamingHttpResponse(
        _async_chunks(chunks) if isinstance(request, ASGIRequest) else chunks, content_type=content_type
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def file_download(
    request: HttpRequest, file: IO[bytes], *, content_type: str, filename: str, as_attachment: bool
) -> FileResponse:
    """A stored file sent in chunks, its Content-Length and a safely encoded Content-Disposition
    set by Django; under ASGI read chunk by chunk in the sync thread (Django would otherwise read
    a synchronous file whole into memory first)."""
    response = FileResponse(file, content_type=content_type, filename=filename, as_attachment=as_attachment)
    if isinstance(request, ASGIRequest):
        response.streaming_content = _async_chunks(iter(lambda: file.read(FILE_CHUNK_BYTES), b""))
    return response
