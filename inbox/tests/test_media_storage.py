"""Where inbox media is kept: the filesystem under the data folder by default, an S3-compatible
bucket (private, no signed URLs) with MEDIA_STORAGE=s3; a misconfiguration stops start-up."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
SHOW_STORAGE = (
    "import django; django.setup();"
    "from django.core.files.storage import storages; s = storages['default'];"
    "print(type(s).__name__, s.bucket_name, s.default_acl, s.querystring_auth, s.endpoint_url, s.location)"
)


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MEDIA_", "DJANGO_"))}
    clean.update(env, DJANGO_SETTINGS_MODULE="aerostic.settings")
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_by_default_media_is_kept_on_the_filesystem_in_the_git_ignored_data_folder():
    assert settings.STORAGES["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert Path(settings.MEDIA_ROOT) == ROOT / ".data" / "media"
    assert ".data/" in (ROOT / ".gitignore").read_text().splitlines()


def test_media_storage_s3_keeps_media_private_in_the_bucket_named():
    result = _python(
        SHOW_STORAGE,
        MEDIA_STORAGE="s3",
        AWS_STORAGE_BUCKET_NAME="aerostic-media",
        AWS_S3_ENDPOINT_URL="http://127.0.0.1:9000",
        AWS_LOCATION="inbox",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [
        "S3Storage",
        "aerostic-media",
        "private",
        "False",
        "http://127.0.0.1:9000",
        "inbox",
    ]


def test_media_storage_s3_without_a_bucket_stops_start_up():
    result = _python("import django; django.setup()", MEDIA_STORAGE="s3")
    assert result.returncode != 0 and "AWS_STORAGE_BUCKET_NAME" in result.stderr
