"""Start-up configuration: production refuses unsafe or missing settings; deploy checks are clean."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "x" * 60 + "-production-secret-for-the-check-only",
    "TOKEN_ENCRYPTION_KEYS": "k1:" + "A" * 43,
    "BLIND_INDEX_KEY": "b" * 40,
    "META_APP_SECRET": "m" * 32,
    "ALLOWED_HOSTS": "app.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://app.example.com",
    "DATABASE_URL": "postgres://aerostic@db.example.com/aerostic",
    "REDIS_URL": "redis://redis.example.com:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and not k.startswith("DJANGO_")}
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "aerostic.settings"
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_deploy_check_is_clean_in_production():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_collectstatic_with_the_production_storage_finds_every_reference(tmp_path):
    """The manifest storage rewrites every url() and sourceMappingURL: a vendored file that names a
    file we do not ship stops a deploy, so it must stop the suite first."""
    result = _manage("collectstatic", "--noinput", env={**PRODUCTION_ENV, "STATIC_ROOT": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    manifest = (tmp_path / "staticfiles.json").read_text()
    assert "vendor/chart.umd.js" in manifest


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "TOKEN_ENCRYPTION_KEYS", "META_APP_SECRET", "ALLOWED_HOSTS", "EMAIL_URL"]
)
def test_production_refuses_to_start_without(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_deploy_check_is_clean_in_staging():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env={**PRODUCTION_ENV, "DJANGO_ENV": "staging"})
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "EMAIL_URL"])
def test_staging_needs_production_secrets_and_mail_too(missing):
    env = {k: v for k, v in {**PRODUCTION_ENV, "DJANGO_ENV": "staging"}.items() if k != missing}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr and "DJANGO_ENV=staging" in result.stderr


def test_staging_refuses_debug_and_takes_the_sandbox():
    result = _manage("check", env={**PRODUCTION_ENV, "DJANGO_ENV": "staging", "DEBUG": "true"})
    assert result.returncode != 0 and "DJANGO_ENV=staging" in result.stderr
    result = _manage("check", env={**PRODUCTION_ENV, "DJANGO_ENV": "staging", "SANDBOX_ENABLED": "true"})
    assert result.returncode == 0, result.stderr


def test_production_refuses_the_sandbox():
    result = _manage("check", env={**PRODUCTION_ENV, "SANDBOX_ENABLED": "true"})
    assert result.returncode != 0
    assert "SANDBOX_ENABLED must be false when DJANGO_ENV=production" in result.stderr


@pytest.mark.parametrize("url", ["consolemail://", "memorymail://", "dummymail://", "filemail:///tmp/mail"])
def test_production_refuses_an_email_backend_that_delivers_nothing(url):
    result = _manage("check", env={**PRODUCTION_ENV, "EMAIL_URL": url})
    assert result.returncode != 0
    assert "EMAIL_URL" in result.stderr


def _development_env(tmp_path, **overrides: str) -> dict[str, str]:
    """DJANGO_ENV unset: the default, development."""
    env = {k: v for k, v in PRODUCTION_ENV.items() if k not in {"DJANGO_ENV", "EMAIL_URL"}}
    env.pop("ALLOWED_HOSTS")
    env["DEV_SECRETS_FILE"] = str(tmp_path / "dev-secrets.json")
    env.update(overrides)
    return env


@pytest.mark.parametrize("hosts", ["app.example.com", "localhost,app.example.com", "*", "0.0.0.0", "10.0.0.5"])  # noqa: S104
def test_development_mode_refuses_to_serve_a_host_that_is_not_local(tmp_path, hosts):
    result = _manage("check", env=_development_env(tmp_path, ALLOWED_HOSTS=hosts))
    assert result.returncode != 0
    assert "DJANGO_ENV=production" in result.stderr
    assert "ALLOWED_HOSTS" in result.stderr


def test_development_mode_serves_local_hosts(tmp_path):
    hosts = "localhost,127.0.0.1,127.0.1.1,[::1],::1,testserver,aerostic.localhost,.localhost"
    result = _manage("check", env=_development_env(tmp_path, ALLOWED_HOSTS=hosts))
    assert result.returncode == 0, result.stderr


def test_development_mode_starts_with_no_configuration(tmp_path):
    result = _manage("check", env=_development_env(tmp_path))
    assert result.returncode == 0, result.stderr


def test_production_refuses_debug():
    result = _manage("check", env={**PRODUCTION_ENV, "DEBUG": "true"})
    assert result.returncode != 0
    assert "DEBUG must be false" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEBUG", "maybe"),
        ("DB_CONN_MAX_AGE", "forever"),
        ("AXES_FAILURE_LIMIT", "0"),
        ("DJANGO_ENV", "qa"),
        ("DATABASE_URL", "mysql://x@y/z"),
        ("REDIS_URL", "localhost:6379"),
        ("LOG_LEVEL", "LOUD"),
    ],
    ids=lambda value: str(value),
)
def test_malformed_values_stop_start_up_naming_the_variable(variable, value):
    result = _manage("check", env={**PRODUCTION_ENV, "DJANGO_ENV": "production", variable: value})
    assert result.returncode != 0
    assert variable in result.stderr


@pytest.mark.django_db
def test_migrations_match_the_models():
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_every_environment_variable_is_documented():
    import re

    settings_source = (ROOT / "aerostic" / "settings.py").read_text()
    used = set(re.findall(r'(?:env_\w+|_secret)\(\s*"([A-Z_]+)"', settings_source))
    used |= set(
        re.findall(r"require_in_production\(\s*\[([^\]]+)\]", settings_source)[0]
        .replace('"', "")
        .replace(" ", "")
        .split(",")
    )
    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    assert used, "found no variables: the pattern is stale"
    assert [v for v in sorted(used) if f"{v}=" not in example] == []
    assert [v for v in sorted(used) if f"`{v}`" not in readme] == []


@pytest.mark.parametrize(("asgi", "expected"), [(False, "60 None"), (True, "0 8")])
def test_the_asgi_web_tier_pools_connections_and_everything_else_keeps_them(tmp_path, asgi, expected):
    """Each ASGI request runs in a new thread: persistent connections would pile up until Postgres
    refuses more, so the web tier (aerostic/asgi.py) uses psycopg's pool; workers keep theirs."""
    load = "import aerostic.asgi; " if asgi else "import django; django.setup(); "
    code = load + (
        "from django.conf import settings; d = settings.DATABASES['default']; "
        "print(d['CONN_MAX_AGE'], (d.get('OPTIONS', {}).get('pool') or {}).get('max_size'))"
    )
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "DB_POOL"}
    env.update(PRODUCTION_ENV, DJANGO_SETTINGS_MODULE="aerostic.settings")
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split("\n")[-2] == expected
