"""CSV uploads past the size limit: refused with a clear error by the portal and the API, and never
read into memory or written to disk whole (the size is known before the file is read)."""

from __future__ import annotations

import tracemalloc

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadhandler import load_handler
from django.http.multipartparser import MultiPartParser
from django.test.client import BOUNDARY, MULTIPART_CONTENT, RequestFactory

from aerostic.core.tenant_context import tenant_context
from contacts.importing import ImportRefused, import_upload_read
from contacts.models import ContactImport

pytestmark = pytest.mark.django_db

LIMIT = 64 * 1024
ROW = b"+4915123456789,Somebody with a long enough name\r\n"


def _oversize_csv(size: int) -> bytes:
    return b"phone,name\r\n" + ROW * (size // len(ROW) + 1)


@pytest.mark.parametrize("path", ["/contacts/import/", "/api/v1/contact-imports/"], ids=["portal", "api"])
def test_an_oversize_upload_is_refused_with_a_clear_error_and_nothing_stored(
    alpha, settings, login_client, api_client_for, tmp_path, path
):
    # Given a limit of 64 KB and a 1 MB file
    settings.CONTACT_IMPORT_MAX_BYTES = LIMIT
    big = tmp_path / "big.csv"
    big.write_bytes(_oversize_csv(1024 * 1024))
    is_api = path.startswith("/api/")
    client = api_client_for(alpha.admin) if is_api else login_client(alpha.admin)
    # When it is uploaded
    with big.open("rb") as handle:
        response = (
            client.post(path, {"file": handle}, format="multipart") if is_api else client.post(path, {"file": handle})
        )
    # Then the answer says how big it is and what the limit is, and nothing is stored
    text = response.json()["detail"] if is_api else " ".join(response.context["form"].errors["file"])
    assert response.status_code == (400 if is_api else 200)
    assert "The file is 1.0 MB; files up to 64 KB can be imported" in text
    with tenant_context(alpha.tenant):
        assert not ContactImport.objects.exists()


def test_an_oversize_upload_is_neither_kept_in_memory_nor_read(alpha, settings, tmp_path):
    # Given the upload handlers the app runs with, a 1 MB limit and a 16 MB multipart body on disk
    settings.CONTACT_IMPORT_MAX_BYTES = 1024 * 1024
    body = tmp_path / "body"
    with body.open("wb") as out:
        out.write(f"--{BOUNDARY}\r\n".encode())
        out.write(b'Content-Disposition: form-data; name="file"; filename="big.csv"\r\n')
        out.write(b"Content-Type: text/csv\r\n\r\n")
        out.write(_oversize_csv(16 * 1024 * 1024))
        out.write(f"\r\n--{BOUNDARY}--\r\n".encode())
    request = RequestFactory().post("/contacts/import/", data={})
    handlers = [load_handler(path, request) for path in django_settings.FILE_UPLOAD_HANDLERS]
    meta = {"CONTENT_TYPE": MULTIPART_CONTENT, "CONTENT_LENGTH": str(body.stat().st_size)}
    # When the request is parsed and the import reads the file
    tracemalloc.start()
    try:
        with body.open("rb") as stream:
            _post, files = MultiPartParser(meta, stream, handlers).parse()
        upload = files["file"]
        with pytest.raises(ImportRefused) as refused:
            import_upload_read(upload)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Then the app knew the full size, refused it by that, and never held the file in memory
    assert upload.size > 16 * 1024 * 1024
    assert refused.value.code == "too_large" and "files up to 1.0 MB" in refused.value.message
    assert peak < 2 * 1024 * 1024, f"peak {peak / 1024 / 1024:.1f} MB"
    with pytest.raises(ImportRefused):
        upload.read()  # whoever forgets the size check still gets the clear refusal, not the bytes


def test_the_size_check_comes_before_reading(alpha, settings):
    # An upload object that raises if anyone reads it: the size it reports is enough to refuse it
    from django.core.files.uploadedfile import SimpleUploadedFile

    class Unreadable(SimpleUploadedFile):
        def read(self, *args):
            raise AssertionError("read before the size check")

        def chunks(self, *args, **kwargs):
            raise AssertionError("read before the size check")

    settings.CONTACT_IMPORT_MAX_BYTES = LIMIT
    upload = Unreadable("big.csv", b"", content_type="text/csv")
    upload.size = LIMIT + 1
    with pytest.raises(ImportRefused, match="files up to 64 KB"):
        import_upload_read(upload)


def test_an_upload_within_the_limit_is_read_whole(alpha, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.CONTACT_IMPORT_MAX_BYTES = LIMIT
    data = b"phone,name\r\n" + ROW * 10
    assert import_upload_read(SimpleUploadedFile("ok.csv", data, content_type="text/csv")) == data
