"""file_download: a stored file streamed in chunks under WSGI and ASGI alike, never read whole."""

import asyncio
import io
from concurrent.futures import ThreadPoolExecutor

from django.test import AsyncRequestFactory, RequestFactory

from aerostic.core.streaming import FILE_CHUNK_BYTES, file_download

DATA = bytes(range(256)) * 1000  # several chunks


async def _read(response) -> list[bytes]:
    return [chunk async for chunk in response]


def test_under_asgi_the_file_is_read_chunk_by_chunk():
    request = AsyncRequestFactory().get("/")
    response = file_download(
        request, io.BytesIO(DATA), content_type="application/pdf", filename="Invoice 7.pdf", as_attachment=True
    )
    assert response.is_async and int(response["Content-Length"]) == len(DATA)
    assert response["Content-Disposition"] == 'attachment; filename="Invoice 7.pdf"'
    # A thread of its own: the browser tests' Playwright keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        chunks = pool.submit(asyncio.run, _read(response)).result()
    assert b"".join(chunks) == DATA and max(map(len, chunks)) == FILE_CHUNK_BYTES


def test_under_wsgi_it_is_a_plain_file_response():
    response = file_download(
        RequestFactory().get("/"), io.BytesIO(DATA), content_type="image/png", filename="a.png", as_attachment=False
    )
    assert not response.is_async and response["Content-Disposition"] == 'inline; filename="a.png"'
    assert b"".join(response.streaming_content) == DATA
