"""The database role must obey row-level security: production refuses a superuser or BYPASSRLS
role at start-up and in /readyz; development warns. Real connections to the embedded server:
its superuser `postgres` against the app role `aerostic`."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from aerostic.core.tests.test_settings import PRODUCTION_ENV

ROOT = Path(__file__).resolve().parents[3]


def _as_user(url: str, user: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.split("@", 1)[1] if "@" in parts.netloc else parts.netloc
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


APP_URL = os.environ["DATABASE_URL"]
SUPERUSER_URL = _as_user(APP_URL, "postgres")


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and not k.startswith("DJANGO_")}
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "aerostic.settings"
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def _production(database_url: str) -> dict[str, str]:
    return {
        **PRODUCTION_ENV,
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ["REDIS_URL"],
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "testserver",
    }


def _development(database_url: str, tmp_path) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ["REDIS_URL"],
        "DEV_SECRETS_FILE": str(tmp_path / "dev-secrets.json"),
    }


def test_production_start_up_check_refuses_a_superuser_role():
    result = _run("check", "--database", "default", env=_production(SUPERUSER_URL))
    assert result.returncode != 0
    assert "postgres" in result.stderr and "row-level security" in result.stderr


def test_production_start_up_check_accepts_the_app_role():
    result = _run("check", "--database", "default", env=_production(APP_URL))
    assert result.returncode == 0, result.stderr
    assert "row-level security" not in result.stderr


def test_development_start_up_check_warns_about_a_superuser_role(tmp_path):
    result = _run("check", "--database", "default", env=_development(SUPERUSER_URL, tmp_path))
    assert result.returncode == 0, result.stderr
    assert "row-level security" in result.stderr


_READYZ = (
    "import json; from django.test import Client; r = Client().get('/readyz'); "
    "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
)


def _readyz(env: dict[str, str]) -> dict:
    result = _run("shell", "-c", _READYZ, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_readyz_is_503_when_the_role_bypasses_rls():
    answer = _readyz(_production(SUPERUSER_URL))
    assert answer["status"] == 503
    assert answer["body"]["checks"]["postgres"]["ok"] is False
    assert answer["body"]["checks"]["postgres"]["obeys_rls"] is False


def test_production_readyz_reports_the_app_role_as_obeying_rls():
    answer = _readyz(_production(APP_URL))
    assert answer["status"] == 200, answer
    assert answer["body"]["checks"]["postgres"]["obeys_rls"] is True


def test_production_refuses_every_query_of_a_process_connected_as_superuser():
    code = (
        "from django.core.exceptions import ImproperlyConfigured\n"
        "from django.db import connection\n"
        "for attempt in range(2):\n"
        "    try:\n"
        "        connection.cursor().execute('SELECT 1')\n"
        "    except ImproperlyConfigured:\n"
        "        print('attempt: refused')\n"
        "    else:\n"
        "        print('attempt: served')\n"
    )
    result = _run("shell", "-c", code, env=_production(SUPERUSER_URL))
    answers = [line for line in result.stdout.splitlines() if line.startswith("attempt:")]
    assert answers == ["attempt: refused", "attempt: refused"], result.stdout + result.stderr


@pytest.mark.django_db
def test_readyz_reports_the_role_in_development(client):
    body = client.get("/readyz").json()
    assert body["checks"]["postgres"]["obeys_rls"] is True


def test_production_worker_refuses_to_start_as_superuser():
    result = _run("rqworker", "--burst", "low", env=_production(SUPERUSER_URL))
    assert result.returncode != 0
    assert "row-level security" in result.stderr


def test_production_worker_starts_as_the_app_role():
    result = _run("rqworker", "--burst", "low", env=_production(APP_URL))
    assert result.returncode == 0, result.stderr[-2000:]
