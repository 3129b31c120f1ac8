"""Streamed downloads (CSV exports): one response helper for WSGI and ASGI alike."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, StreamingHttpResponse


def _next_chunk(chunks: Iterator[str]) -> str | None:
    return next(chunks, None)


async def _async_chunks(chunks: Iterator[str]) -> AsyncIterator[str]:
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
